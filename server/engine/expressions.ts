import { parseExpression as parseFeel } from 'feelin';
import type { Json, Variables } from '../store/types.ts';
import { ExpressionError, expressionLimits, shown } from './expression-limits.ts';
import { evaluateFeelBounded } from './feel-sandbox.ts';
import { evaluateJuel, JuelError, parseJuel } from './juel.ts';

export { ExpressionError } from './expression-limits.ts';

/**
 * Sandboxed expressions, the one way Baton evaluates them — in conditions, loop conditions,
 * assignees, timers, input/output parameters and script tasks of the `juel` and `feel` formats:
 * - `${...}`: JUEL as Camunda 7 models write it (`${amount > 100}`, `${!approved}`,
 *   `${customer.tier == "gold"}`, `${test.contains("a")}`), by Baton's own interpreter (juel.ts);
 * - `=...`: FEEL as Camunda 8 models write it (`=amount > 100`), by the feelin interpreter.
 * Neither uses eval, vm or Function; variables are copied into objects without prototypes, and
 * names that lead out of the data (`constructor`, `__proto__`, `prototype`) are refused.
 * Every evaluation runs under the bounds of expression-limits.ts; a deployment only parses.
 */

type Compiled = (context: Record<string, unknown>) => unknown;

const TEMPLATE = /\$\{([^}]*)\}/g;
const FORBIDDEN = /(^|[^\w$])(constructor|__proto__|prototype|__defineGetter__|__defineSetter__|__lookupGetter__|__lookupSetter__)(?![\w$])/;
const cache = new Map<string, Compiled>();

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
    return remember(key, (context) => evaluateJuel(tree, context, expressionLimits()));
  } catch (err) {
    throw new ExpressionError(`invalid expression \${${shown(source)}}: ${(err as Error).message}`);
  }
}

/** The first syntax error of FEEL, found by parsing only: nothing is evaluated. */
function feelSyntaxError(source: string): string | null {
  let error: string | null = null;
  parseFeel(source, {}, undefined).iterate({
    enter(node) {
      if (error !== null) return false;
      if (!node.type.isError) return undefined;
      const near = source.slice(node.from, Math.max(node.to, node.from + 10));
      error = near.trim() ? `syntax error at ${node.from} near "${shown(near)}"` : `syntax error at ${node.from}: the expression is incomplete`;
      return false;
    },
  });
  return error;
}

function compileFeel(source: string): Compiled {
  const key = `feel:${source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const forbidden = FORBIDDEN.exec(source);
  if (forbidden) throw new ExpressionError(`invalid expression =${shown(source)}: "${forbidden[2]}" is not allowed`);
  const syntax = feelSyntaxError(source);
  if (syntax) throw new ExpressionError(`invalid expression =${shown(source)}: ${syntax}`);
  return remember(key, (context) => evaluateFeelBounded(source, context));
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
      if (err instanceof JuelError) throw new ExpressionError(`\${${shown(source)}}: ${err.message}`);
      throw err;
    }
  };
  const whole = /^\s*\$\{([^}]*)\}\s*$/.exec(text);
  if (whole) return run(whole[1] ?? '');
  if (!isExpression(text)) return text;
  const { maxResultChars } = expressionLimits();
  let length = 0;
  return text.replace(TEMPLATE, (_, source: string) => {
    const value = run(source);
    const part = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    length += part.length;
    if (length > maxResultChars) throw new ExpressionError(`${shown(text)}: the text is longer than ${maxResultChars} characters (BATON_EXPRESSION_MAX_RESULT_CHARS)`);
    return part;
  });
}
