import { checkExpression, evaluate } from './expressions.ts';
import type { ScriptLanguage } from './scripts.ts';

/**
 * The script languages Baton ships: expression languages, evaluated by the same sandboxed
 * evaluator as conditions. A script's value goes to the task's `camunda:resultVariable`.
 */

const expressionLanguage = (format: string, wrap: (script: string) => string): ScriptLanguage => ({
  format,
  check: (script) => checkExpression(wrap(script)),
  run(script, { variables, resultVariable }) {
    const value = evaluate(wrap(script), variables);
    return { variables: resultVariable ? { [resultVariable]: value === undefined ? null : (value as never) } : {} };
  },
});

/** `juel`: one expression as Camunda 7 writes it, with or without `${...}` around it. */
const juel = expressionLanguage('juel', (script) => (/^\s*\$\{[\s\S]*\}\s*$/.test(script) ? script.trim() : `\${${script.trim()}}`));

/** `feel`: a FEEL expression, as Camunda 8 writes it (with or without a leading `=`). */
const feel = expressionLanguage('feel', (script) => `=${script.trim().replace(/^=/, '')}`);

export const BUILT_IN_SCRIPT_LANGUAGES: readonly ScriptLanguage[] = [juel, feel];
