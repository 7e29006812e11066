import jexlModule from 'jexl';
import type { Json, Variables } from '../store/types.ts';

/**
 * Sandboxed expressions: `${...}` in conditions, assignees, timers and input parameters, in the
 * JUEL-like syntax Camunda users write (`${approved}`, `${amount > 100}`, `${!approved}`,
 * `${a && b}`, `${customer.name}`). Evaluated by jexl, an interpreter over a parsed tree: no eval,
 * vm or Function, no function calls, and property names that lead out of the data are refused.
 */

const { Jexl } = jexlModule as unknown as { Jexl: new () => JexlInstance };

interface AstNode {
  type: string;
  value?: unknown;
  name?: string;
  [child: string]: unknown;
}
interface CompiledExpression {
  evalSync(context: object): unknown;
  _getAst(): AstNode;
}
interface JexlInstance {
  compile(expression: string): CompiledExpression;
}

const jexl = new Jexl();
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__']);
const TEMPLATE = /\$\{([^}]*)\}/g;
const cache = new Map<string, CompiledExpression>();

/** Thrown when an expression does not parse or is not allowed. */
export class ExpressionError extends Error {}

function walk(node: unknown, visit: (node: AstNode) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((child) => walk(child, visit));
  visit(node as AstNode);
  for (const value of Object.values(node)) if (value && typeof value === 'object') walk(value, visit);
}

function compile(source: string): CompiledExpression {
  const cached = cache.get(source);
  if (cached) return cached;
  let compiled: CompiledExpression;
  try {
    compiled = jexl.compile(source);
    walk(compiled._getAst(), (node) => {
      if (node.type === 'FunctionCall') throw new ExpressionError('function calls are not allowed');
      if (node.type === 'Identifier' && FORBIDDEN.has(String(node.value))) {
        throw new ExpressionError(`"${String(node.value)}" is not allowed`);
      }
      if (node.type === 'FilterExpression' && !node.relative && (node.expr as AstNode | undefined)?.type !== 'Literal') {
        throw new ExpressionError('computed property names are not allowed; write a.b or a["b"]');
      }
      if (node.type === 'Literal' && typeof node.value === 'string' && FORBIDDEN.has(node.value)) {
        throw new ExpressionError(`"${node.value}" is not allowed`);
      }
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^Token /, 'token ') : String(err);
    throw new ExpressionError(`invalid expression \${${source}}: ${reason}`);
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(source, compiled);
  return compiled;
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

/** True when the text holds at least one `${...}`. */
export function isExpression(text: string): boolean {
  return /\$\{[^}]*\}/.test(text);
}

/** Throws ExpressionError if any `${...}` in the text does not parse or is not allowed. */
export function checkExpression(text: string): void {
  for (const match of text.matchAll(TEMPLATE)) compile((match[1] ?? '').trim());
}

/**
 * Evaluates a text against variables. A text that is exactly one `${...}` gives the value;
 * text around expressions gives a string; text without expressions is returned as it is.
 */
export function evaluate(text: string, variables: Variables): unknown {
  const context = sandbox(variables) as object;
  const run = (source: string): unknown => {
    const value = compile(source.trim()).evalSync(context);
    if (typeof value === 'function') throw new ExpressionError(`\${${source}} did not give a value`);
    return value;
  };
  const whole = /^\s*\$\{([^}]*)\}\s*$/.exec(text);
  if (whole) return run(whole[1] ?? '');
  if (!isExpression(text)) return text;
  return text.replace(TEMPLATE, (_, source: string) => {
    const value = run(source);
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
