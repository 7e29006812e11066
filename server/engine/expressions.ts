import { evaluate as evaluateFeel, SyntaxError as FeelSyntaxError } from 'feelin';
import type { Json, Variables } from '../store/types.ts';
import { evaluateJuel, JuelError, parseJuel } from './juel.ts';

/**
 * Sandboxed expressions, the one way Baton evaluates them — in conditions, loop conditions,
 * assignees, timers, input/output parameters and script tasks of the `juel` and `feel` formats:
 * - `${...}`: JUEL as Camunda 7 models write it (`${amount > 100}`, `${!approved}`,
 *   `${customer.tier == "gold"}`, `${test.contains("a")}`), by Baton's own interpreter (juel.ts);
 * - `=...`: FEEL as Camunda 8 models write it (`=amount > 100`), by the feelin interpreter.
 * Neither uses eval, vm or Function; variables are copied into objects without prototypes, and
 * names that lead out of the data (`constructor`, `__proto__`, `prototype`) are refused.
 */

type Compiled = (context: Record<string, unknown>) => unknown;

const TEMPLATE = /\$\{([^}]*)\}/g;
const FORBIDDEN = /(^|[^\w$])(constructor|__proto__|prototype|__defineGetter__|__defineSetter__|__lookupGetter__|__lookupSetter__)(?![\w$])/;
const cache = new Map<string, Compiled>();

/** Thrown when an expression does not parse or is not allowed. */
export class ExpressionError extends Error {}

function remember(key: string, compiled: Compiled): Compiled {
  if (cache.size > 10_000) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

function compileJuel(source: string): Compiled {
  const key = `juel:${source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  try {
    const tree = parseJuel(source);
    return remember(key, (context) => evaluateJuel(tree, context));
  } catch (err) {
    throw new ExpressionError(`invalid expression \${${source}}: ${(err as Error).message}`);
  }
}

function compileFeel(source: string): Compiled {
  const key = `feel:${source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const forbidden = FORBIDDEN.exec(source);
  if (forbidden) throw new ExpressionError(`invalid expression =${source}: "${forbidden[2]}" is not allowed`);
  try {
    evaluateFeel(source, {});
  } catch (err) {
    if (err instanceof FeelSyntaxError) throw new ExpressionError(`invalid expression =${source}: ${err.message}`);
  }
  return remember(key, (context) => {
    const { value } = evaluateFeel(source, context);
    return typeof value === 'function' ? undefined : toPlain(value);
  });
}

/** FEEL dates, times and durations as ISO text; everything else as it is. */
function toPlain(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'toISO' in value && typeof value.toISO === 'function') return String(value.toISO());
  return value;
}

/** Copies variables into objects without prototypes, so no lookup reaches Object.prototype. */
function sandbox(value: Json): unknown {
  if (Array.isArray(value)) return value.map(sandbox);
  if (value && typeof value === 'object') {
    const copy = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) copy[key] = sandbox(item);
    return copy;
  }
  return value;
}

const feelSource = (text: string): string | null => (/^\s*=/.test(text) ? text.replace(/^\s*=/, '') : null);

/** True when the text is an expression: it holds a `${...}` or, as FEEL, starts with `=`. */
export function isExpression(text: string): boolean {
  return /\$\{[^}]*\}/.test(text) || feelSource(text) !== null;
}

/** Throws ExpressionError if the expressions of a text do not parse or are not allowed. */
export function checkExpression(text: string): void {
  const feel = feelSource(text);
  if (feel !== null) {
    compileFeel(feel);
    return;
  }
  for (const match of text.matchAll(TEMPLATE)) compileJuel((match[1] ?? '').trim());
}

/**
 * Evaluates a text against variables. FEEL (`=...`) and a text that is exactly one `${...}` give
 * the value; text around `${...}` gives a string; text without expressions is returned as it is.
 */
export function evaluate(text: string, variables: Variables): unknown {
  const context = sandbox(variables) as Record<string, unknown>;
  const feel = feelSource(text);
  if (feel !== null) return compileFeel(feel)(context);
  const run = (source: string): unknown => {
    try {
      return compileJuel(source.trim())(context);
    } catch (err) {
      if (err instanceof JuelError) throw new ExpressionError(`\${${source.trim()}}: ${err.message}`);
      throw err;
    }
  };
  const whole = /^\s*\$\{([^}]*)\}\s*$/.exec(text);
  if (whole) return run(whole[1] ?? '');
  if (!isExpression(text)) return text;
  return text.replace(TEMPLATE, (_, source: string) => {
    const value = run(source);
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
