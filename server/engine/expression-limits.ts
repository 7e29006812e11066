/**
 * The bounds every expression runs under, so that no expression a model or a user's variables
 * can hold takes the server's memory or time: FEEL runs in a worker thread with a heap limit and
 * a deadline (feel-sandbox.ts), JUEL counts its steps and the size of what it builds (juel.ts).
 * An exceeded bound is an {@link ExpressionError} naming the bound and the expression.
 */

/** The bounds of one expression's evaluation (BATON_EXPRESSION_* in config.ts). */
export interface ExpressionLimits {
  /** JUEL: syntax nodes one evaluation may visit */
  readonly maxSteps: number;
  /** both: wall-clock time of one evaluation, in milliseconds */
  readonly timeoutMs: number;
  /** FEEL: heap of the worker thread that evaluates it, in megabytes */
  readonly maxMemoryMb: number;
  /** both: the longest string an expression may build, and the largest value (as JSON characters) it may give */
  readonly maxResultChars: number;
}

/** Defaults well above what real models need (the salary demo's expressions take a few steps). */
export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = Object.freeze({
  maxSteps: 100_000,
  timeoutMs: 200,
  maxMemoryMb: 64,
  maxResultChars: 1_000_000,
});

/** Thrown when an expression does not parse, is not allowed, fails or exceeds a bound. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

/**
 * Whether an error came from an expression, also when the engine wrapped it (bpmn-elements'
 * ActivityError keeps the original as `inner` and takes over its name).
 */
export function isExpressionFailure(err: unknown): boolean {
  for (let at = err, depth = 0; at && typeof at === 'object' && depth < 5; at = (at as { inner?: unknown }).inner, depth++) {
    if (at instanceof ExpressionError || (at as { name?: unknown }).name === 'ExpressionError') return true;
  }
  return false;
}

let current: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS;

/** Sets the bounds of every evaluation from now on (the composition root calls it with the config). */
export function setExpressionLimits(limits: ExpressionLimits): void {
  current = Object.freeze({ ...limits });
}

/** The bounds evaluations run under now. */
export function expressionLimits(): ExpressionLimits {
  return current;
}

/** An expression as error messages show it: at most 80 characters. */
export function shown(source: string): string {
  const text = source.replace(/\s+/g, ' ').trim();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
