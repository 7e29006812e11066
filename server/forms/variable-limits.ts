import { ValidationError, VariableTooLargeError } from '../errors.ts';
import type { Json, Variables } from '../store/types.ts';

/**
 * Bounds on an instance's variables (config.ts: BATON_VARIABLE_MAX_BYTES, BATON_VARIABLES_MAX_COUNT,
 * BATON_VARIABLES_MAX_BYTES, BATON_FORM_TEXT_MAX_LENGTH). Every variable is read, copied and
 * written with its instance on each step, and shown on its page: without bounds, one start form
 * can make every step of the instance, and every request that reads it, as slow as it likes.
 */
export interface VariableLimits {
  /** the JSON size of one variable, in bytes (UTF-8) */
  readonly maxBytes: number;
  /** how many variables one instance holds */
  readonly maxCount: number;
  /** the JSON size of all of an instance's variables together, in bytes */
  readonly maxTotalBytes: number;
  /** how deeply one value nests: deeper values make the engine's recursive copies overflow the stack */
  readonly maxDepth: number;
  /** characters of a string form field whose form sets no maxlength */
  readonly textMaxLength: number;
}

/** The defaults: far above what a business process keeps per instance, far below what hurts. */
export const DEFAULT_VARIABLE_LIMITS: VariableLimits = Object.freeze({
  maxBytes: 256 * 1024,
  maxCount: 1_000,
  maxTotalBytes: 4 * 1024 * 1024,
  maxDepth: 32,
  textMaxLength: 4_000,
});

/** Which bound a set of variables breaks: the variable (or `variables`) and why. */
export interface Overflow {
  /** 400: too many or too deep; 413: too large */
  status: 400 | 413;
  name: string;
  message: string;
  limit: number;
}

/** How deeply a JSON value nests (a scalar is 0); stops counting past the limit. */
export function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object' || limit < 0) return 0;
  let deepest = 0;
  for (const item of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(item, limit - 1));
    if (deepest > limit) break;
  }
  return deepest + 1;
}

const kib = (bytes: number): string => (bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`);

/**
 * The first bound the variables break, or null. The count is checked first (without reading a
 * value), then each variable's depth and size, then their total size.
 */
export function findOverflow(variables: Variables, limits: VariableLimits): Overflow | null {
  const names = Object.keys(variables);
  const tooMany = countOverflow(names.length, limits);
  if (tooMany) return tooMany;
  let total = 2;
  for (const name of names) {
    const value = variables[name] as Json;
    if (depthOf(value, limits.maxDepth) > limits.maxDepth) {
      return { status: 400, name, message: `variable ${name} nests deeper than ${limits.maxDepth} levels`, limit: limits.maxDepth };
    }
    const bytes = sizeOf(value);
    if (!Number.isFinite(bytes)) return { status: 400, name, message: `variable ${name} cannot be stored as JSON`, limit: limits.maxBytes };
    if (bytes > limits.maxBytes) {
      return { status: 413, name, message: `variable ${name} holds ${bytes} bytes, more than the ${kib(limits.maxBytes)} a variable may hold`, limit: limits.maxBytes };
    }
    total += Buffer.byteLength(name) + bytes + 4;
    if (total > limits.maxTotalBytes) {
      return {
        status: 413,
        name: 'variables',
        message: `the variables reach ${total} bytes at ${name}, more than the ${kib(limits.maxTotalBytes)} an instance may hold`,
        limit: limits.maxTotalBytes,
      };
    }
  }
  return null;
}

/** The overflow of `count` variables when they are more than an instance may hold, or null. */
export function countOverflow(count: number, limits: VariableLimits): Overflow | null {
  if (count <= limits.maxCount) return null;
  return { status: 400, name: 'variables', message: `${count} variables are more than the ${limits.maxCount} an instance may hold`, limit: limits.maxCount };
}

/** The JSON size of a value in bytes; a value JSON cannot hold counts as infinitely large. */
function sizeOf(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? 'null');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The error a client gets for an overflow: 413 naming the variable and the limit, or 400. */
export function overflowError(overflow: Overflow): ValidationError | VariableTooLargeError {
  if (overflow.status === 413) return new VariableTooLargeError(overflow.name, overflow.message, overflow.limit);
  return new ValidationError(overflow.message, [{ path: overflow.name, message: overflow.message }]);
}

/** Throws the client error of the first bound the variables break (see {@link findOverflow}). */
export function assertWithinLimits(variables: Variables, limits: VariableLimits): void {
  const overflow = findOverflow(variables, limits);
  if (overflow) throw overflowError(overflow);
}
