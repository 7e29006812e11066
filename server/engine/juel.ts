/**
 * A JUEL (Unified Expression Language) interpreter for what Camunda 7 models write inside
 * `${...}`: literals, variables and property paths (`customer.tier`, `order["id"]`), arithmetic
 * (`+ - * / div % mod`), comparison (`== != < > <= >= eq ne lt gt le ge`), boolean logic
 * (`&& || ! and or not`), `empty`, `a ? b : c`, and an allow-list of methods on strings, lists
 * and maps (`name.contains("x")`, `items.size()`). It walks its own syntax tree over plain data:
 * no eval, no Function, no host object is reachable, and a property name is looked up only among
 * the data's own keys, never on a prototype. An evaluation counts its steps and its time, and
 * refuses to build a string longer than its limit (expression-limits.ts).
 */

import type { ExpressionLimits } from './expression-limits.ts';

/** Thrown when an expression does not parse or is not allowed. */
export class JuelError extends Error {}

type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'variable'; name: string }
  | { kind: 'member'; object: Node; property: string }
  | { kind: 'call'; object: Node; method: string; args: Node[] }
  | { kind: 'unary'; operator: string; operand: Node }
  | { kind: 'binary'; operator: string; left: Node; right: Node }
  | { kind: 'conditional'; test: Node; then: Node; otherwise: Node };

interface Token {
  type: 'number' | 'string' | 'name' | 'op' | 'end';
  value: string;
  at: number;
}

/** Names that lead from data to the host; refused wherever they appear. */
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!', eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=', div: '/', mod: '%' };
const OPERATORS = ['===', '!==', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '?', ':', '.', '(', ')', '[', ']', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const char = source[at] as string;
    if (/\s/.test(char)) {
      at++;
      continue;
    }
    const number = /^(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(source.slice(at));
    if (number) {
      tokens.push({ type: 'number', value: number[0], at });
      at += number[0].length;
      continue;
    }
    if (char === '"' || char === "'") {
      let value = '';
      let end = at + 1;
      for (; end < source.length && source[end] !== char; end++) {
        if (source[end] === '\\' && end + 1 < source.length) end++;
        value += source[end];
      }
      if (end >= source.length) throw new JuelError(`unterminated string at ${at}`);
      tokens.push({ type: 'string', value, at });
      at = end + 1;
      continue;
    }
    const name = /^[A-Za-z_$][\w$]*/.exec(source.slice(at));
    if (name) {
      tokens.push({ type: 'name', value: name[0], at });
      at += name[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => source.startsWith(op, at));
    if (!operator) throw new JuelError(`unexpected "${char}" at ${at}`);
    tokens.push({ type: 'op', value: operator === '===' ? '==' : operator === '!==' ? '!=' : operator, at });
    at += operator.length;
  }
  tokens.push({ type: 'end', value: '', at });
  return tokens;
}

const PRECEDENCE: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '>': 4, '<=': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

/** Parses one expression (the text inside `${...}`) into a tree; throws JuelError. */
export function parseJuel(source: string): Node {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token => tokens[position] as Token;
  const next = (): Token => tokens[position++] as Token;
  const operatorOf = (token: Token): string | null =>
    token.type === 'op' ? token.value : token.type === 'name' && token.value in WORD_OPERATORS ? (WORD_OPERATORS[token.value] as string) : null;
  const expect = (value: string): void => {
    const token = next();
    if (token.type !== 'op' || token.value !== value) throw new JuelError(`expected "${value}" at ${token.at}`);
  };
  const checkName = (name: string): string => {
    if (FORBIDDEN.has(name)) throw new JuelError(`"${name}" is not allowed`);
    return name;
  };

  const primary = (): Node => {
    const token = next();
    if (token.type === 'number') return { kind: 'literal', value: Number(token.value) };
    if (token.type === 'string') return { kind: 'literal', value: token.value };
    if (token.type === 'op' && token.value === '(') {
      const inner = expression();
      expect(')');
      return inner;
    }
    if (token.type === 'name') {
      if (token.value === 'true' || token.value === 'false') return { kind: 'literal', value: token.value === 'true' };
      if (token.value === 'null') return { kind: 'literal', value: null };
      return { kind: 'variable', name: checkName(token.value) };
    }
    throw new JuelError(token.type === 'end' ? 'unexpected end of expression' : `unexpected "${token.value}" at ${token.at}`);
  };

  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      const token = peek();
      if (token.type === 'op' && token.value === '.') {
        next();
        const name = next();
        if (name.type !== 'name') throw new JuelError(`expected a property name at ${name.at}`);
        const property = checkName(name.value);
        if (peek().type === 'op' && peek().value === '(') {
          if (!ALLOWED_METHODS.has(property)) throw new JuelError(`method ${property}() is not allowed; strings, lists and maps have ${[...ALLOWED_METHODS].join(', ')}`);
          next();
          const args: Node[] = [];
          if (!(peek().type === 'op' && peek().value === ')')) {
            do args.push(expression());
            while (peek().type === 'op' && peek().value === ',' && next());
          }
          expect(')');
          node = { kind: 'call', object: node, method: property, args };
        } else node = { kind: 'member', object: node, property };
      } else if (token.type === 'op' && token.value === '[') {
        next();
        const key = next();
        const computed = 'computed property names are not allowed; write a.b or a["b"]';
        if (key.type !== 'string' && key.type !== 'number') throw new JuelError(computed);
        if (!(peek().type === 'op' && peek().value === ']')) throw new JuelError(computed);
        expect(']');
        node = { kind: 'member', object: node, property: checkName(key.value) };
      } else if (token.type === 'op' && token.value === '(') {
        throw new JuelError('only the methods of strings, lists and maps may be called');
      } else return node;
    }
  };

  const unary = (): Node => {
    const token = peek();
    const operator = operatorOf(token);
    if (operator === '!' || operator === '-') {
      next();
      return { kind: 'unary', operator, operand: unary() };
    }
    if (token.type === 'name' && token.value === 'empty') {
      next();
      return { kind: 'unary', operator: 'empty', operand: unary() };
    }
    return postfix();
  };

  const binary = (minimum: number): Node => {
    let left = unary();
    for (;;) {
      const operator = operatorOf(peek());
      const precedence = operator ? PRECEDENCE[operator] : undefined;
      if (!operator || precedence === undefined || precedence < minimum) return left;
      next();
      left = { kind: 'binary', operator, left, right: binary(precedence + 1) };
    }
  };

  const expression = (): Node => {
    const test = binary(1);
    if (peek().type === 'op' && peek().value === '?') {
      next();
      const then = expression();
      expect(':');
      return { kind: 'conditional', test, then, otherwise: expression() };
    }
    return test;
  };

  const tree = expression();
  const rest = peek();
  if (rest.type !== 'end') throw new JuelError(`unexpected "${rest.value}" at ${rest.at}`);
  return tree;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A property of data: only own keys of plain objects and arrays, and a string's or list's length. */
function property(object: unknown, name: string): unknown {
  if (object === null || object === undefined) return undefined;
  if ((typeof object === 'string' || Array.isArray(object)) && name === 'length') return object.length;
  if (Array.isArray(object)) return /^\d+$/.test(name) ? object[Number(name)] : undefined;
  if (isRecord(object) && Object.prototype.hasOwnProperty.call(object, name)) return object[name];
  return undefined;
}

const STRING_METHODS: Record<string, (text: string, ...args: unknown[]) => unknown> = {
  contains: (text, part) => text.includes(String(part)),
  startsWith: (text, part) => text.startsWith(String(part)),
  endsWith: (text, part) => text.endsWith(String(part)),
  equals: (text, other) => text === other,
  equalsIgnoreCase: (text, other) => typeof other === 'string' && text.toLowerCase() === other.toLowerCase(),
  isEmpty: (text) => text.length === 0,
  length: (text) => text.length,
  toUpperCase: (text) => text.toUpperCase(),
  toLowerCase: (text) => text.toLowerCase(),
  trim: (text) => text.trim(),
  indexOf: (text, part) => text.indexOf(String(part)),
  substring: (text, from, to) => text.substring(Number(from), to === undefined ? undefined : Number(to)),
  concat: (text, other) => text + String(other),
};

const LIST_METHODS: Record<string, (list: unknown[], ...args: unknown[]) => unknown> = {
  contains: (list, item) => list.some((entry) => equal(entry, item)),
  size: (list) => list.length,
  isEmpty: (list) => list.length === 0,
  get: (list, index) => list[Number(index)],
  indexOf: (list, item) => list.findIndex((entry) => equal(entry, item)),
};

const MAP_METHODS: Record<string, (map: Record<string, unknown>, ...args: unknown[]) => unknown> = {
  containsKey: (map, key) => Object.prototype.hasOwnProperty.call(map, String(key)),
  get: (map, key) => property(map, String(key)),
  size: (map) => Object.keys(map).length,
  isEmpty: (map) => Object.keys(map).length === 0,
};

const ALLOWED_METHODS = new Set([...Object.keys(STRING_METHODS), ...Object.keys(LIST_METHODS), ...Object.keys(MAP_METHODS)]);

function call(object: unknown, method: string, args: unknown[]): unknown {
  const table: Record<string, (target: never, ...args: unknown[]) => unknown> | undefined =
    typeof object === 'string' ? STRING_METHODS : Array.isArray(object) ? LIST_METHODS : isRecord(object) ? MAP_METHODS : undefined;
  const fn = table && Object.prototype.hasOwnProperty.call(table, method) ? table[method] : undefined;
  if (!fn) {
    const what = object === null || object === undefined ? 'null' : Array.isArray(object) ? 'a list' : typeof object === 'string' ? 'a string' : typeof object === 'object' ? 'a map' : `a ${typeof object}`;
    throw new JuelError(`method ${method}() cannot be called on ${what}`);
  }
  return fn(object as never, ...args);
}

/** EL's number coercion: null and "" are 0, numeric strings their number. */
function toNumber(value: unknown): number {
  if (value === null || value === undefined || value === '') return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') throw new JuelError('a boolean is not a number');
  const number = Number(value);
  if (typeof value !== 'string' || Number.isNaN(number)) throw new JuelError(`"${String(value)}" is not a number`);
  return number;
}

function equal(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (left === null || left === undefined || right === null || right === undefined) return (left ?? null) === (right ?? null);
  if (typeof left === 'number' || typeof right === 'number') {
    try {
      return toNumber(left) === toNumber(right);
    } catch {
      return false;
    }
  }
  if (typeof left === 'boolean' || typeof right === 'boolean') return String(left) === String(right);
  return String(left) === String(right);
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  const numeric = typeof left !== 'string' || typeof right !== 'string';
  const a = numeric ? toNumber(left) : left;
  const b = numeric ? toNumber(right) : right;
  switch (operator) {
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

const truthy = (value: unknown): boolean => (typeof value === 'string' ? value === 'true' : Boolean(value));

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return false;
}

/** Evaluates a parsed expression over variables, within the step, time and size limits. */
export function evaluateJuel(node: Node, variables: Record<string, unknown>, limits: Pick<ExpressionLimits, 'maxSteps' | 'timeoutMs' | 'maxResultChars'>): unknown {
  const { maxSteps, timeoutMs, maxResultChars } = limits;
  const deadline = performance.now() + timeoutMs;
  let steps = 0;
  /** every node is a step; every value it gives is checked, whichever operator or method made it */
  const run = (n: Node): unknown => {
    if (++steps > maxSteps) throw new JuelError(`more than ${maxSteps} steps (BATON_EXPRESSION_MAX_STEPS)`);
    if (steps % 256 === 0 && performance.now() > deadline) throw new JuelError(`took longer than ${timeoutMs} ms (BATON_EXPRESSION_TIMEOUT_MS)`);
    const value = step(n);
    // what operators and methods build is checked; variables and literals are there already
    if (typeof value === 'string' && value.length > maxResultChars && (n.kind === 'binary' || n.kind === 'call')) {
      throw new JuelError(`builds a string longer than ${maxResultChars} characters (BATON_EXPRESSION_MAX_RESULT_CHARS)`);
    }
    return value;
  };
  const step = (n: Node): unknown => {
    switch (n.kind) {
      case 'literal':
        return n.value;
      case 'variable':
        return property(variables, n.name);
      case 'member':
        return property(run(n.object), n.property);
      case 'call':
        return call(run(n.object), n.method, n.args.map(run));
      case 'unary': {
        const value = run(n.operand);
        if (n.operator === '!') return !truthy(value);
        if (n.operator === 'empty') return isEmptyValue(value);
        return -toNumber(value);
      }
      case 'conditional':
        return truthy(run(n.test)) ? run(n.then) : run(n.otherwise);
      case 'binary': {
        if (n.operator === '&&') return truthy(run(n.left)) && truthy(run(n.right));
        if (n.operator === '||') return truthy(run(n.left)) || truthy(run(n.right));
        const left = run(n.left);
        const right = run(n.right);
        switch (n.operator) {
          case '==':
            return equal(left, right);
          case '!=':
            return !equal(left, right);
          case '<':
          case '>':
          case '<=':
          case '>=':
            return compare(n.operator, left, right);
          case '+':
            // EL adds numbers; text on either side joins, as Camunda users expect of labels
            return typeof left === 'string' && Number.isNaN(Number(left)) || (typeof right === 'string' && Number.isNaN(Number(right)))
              ? `${left ?? ''}${right ?? ''}`
              : toNumber(left) + toNumber(right);
          case '-':
            return toNumber(left) - toNumber(right);
          case '*':
            return toNumber(left) * toNumber(right);
          case '/':
            return toNumber(left) / toNumber(right);
          default:
            return toNumber(left) % toNumber(right);
        }
      }
    }
  };
  return run(node);
}
