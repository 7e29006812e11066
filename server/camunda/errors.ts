/**
 * Camunda's error contract for /engine-rest: every error is `{type, message}` (JSON) with the
 * status Camunda uses for the same situation. Baton's typed errors are mapped here, in the
 * router's own first middleware, so the rest of Baton keeps its problem+json answers.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import {
  BatonError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RevisionConflictError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts';

/** An error answered as Camunda answers it: its HTTP status, exception type and message. */
export class CamundaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CamundaError';
  }
}

/** Thrown for Camunda endpoints Baton does not implement: 501 naming the endpoint. */
export class NotImplementedError extends CamundaError {
  constructor(method: string, path: string) {
    super(501, 'RestException', `${method} ${path} is not implemented by Baton; see "Coming from Camunda" in Baton's README`);
  }
}

/** The message of a validation error with each problem appended, as Camunda lists them in one text. */
function detailed(error: BatonError): string {
  if (!error.problems.length) return error.message;
  return `${error.message}: ${error.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`;
}

/**
 * Baton's error classes as Camunda reports the same situation: bad input 400
 * InvalidRequestException, a missing resource 404, a forbidden action 403 AuthorizationException,
 * a state that forbids the action 400 BadUserRequestException, a lost concurrent update 500
 * OptimisticLockingException (Camunda has no 409).
 */
export function fromBatonError(error: BatonError, userId?: string): CamundaError {
  if (error instanceof RevisionConflictError) return new CamundaError(500, 'OptimisticLockingException', error.message);
  if (error instanceof ValidationError) return new CamundaError(400, 'InvalidRequestException', detailed(error));
  if (error instanceof NotFoundError) return new CamundaError(404, 'InvalidRequestException', error.message);
  if (error instanceof ForbiddenError) return new CamundaError(403, 'AuthorizationException', error.message, { userId: userId ?? null });
  if (error instanceof UnauthorizedError) return new CamundaError(401, 'AuthenticationException', error.message);
  if (error instanceof ConflictError) return new CamundaError(400, 'BadUserRequestException', error.message);
  if (error instanceof PayloadTooLargeError || error instanceof UnsupportedMediaTypeError) {
    return new CamundaError(error.status, 'InvalidRequestException', error.message);
  }
  return new CamundaError(error.status, 'RestException', error.message);
}

/**
 * Awaits a service call and lets `reword` answer a Baton error the way Camunda answers it at
 * this endpoint (Camunda's status codes differ per endpoint for the same cause).
 */
export async function reworded<T>(work: Promise<T>, reword: (error: BatonError) => CamundaError | undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof BatonError) throw reword(err) ?? err;
    throw err;
  }
}

/**
 * Exception codes Camunda 7.15+ adds to errors of the engine's own exception types
 * (0: no specific code, 1: optimistic locking); errors of the REST layer carry none.
 */
const ENGINE_CODES: Record<string, number> = {
  OptimisticLockingException: 1,
  ProcessEngineException: 0,
  BadUserRequestException: 0,
  TaskAlreadyClaimedException: 0,
  NullValueException: 0,
  ParseException: 0,
  AuthorizationException: 0,
};

/** The router's first middleware: every error below it leaves as Camunda's `{type, message}`. */
export function camundaErrors(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const user = (ctx.state.user as { name?: string } | undefined)?.name;
      const http = err as Error & { status?: number; expose?: boolean };
      let error: CamundaError;
      if (err instanceof CamundaError) error = err;
      else if (err instanceof BatonError) error = fromBatonError(err, user);
      else if (http.expose && http.status && http.status < 500) error = new CamundaError(http.status, 'InvalidRequestException', http.message);
      else {
        log.error({ err, reqId: ctx.state.reqId }, 'engine-rest request failed');
        error = new CamundaError(500, 'ProcessEngineException', 'an unexpected error occurred');
      }
      ctx.status = error.status;
      const code = ENGINE_CODES[error.type];
      ctx.body = { type: error.type, message: error.message, ...(code === undefined ? {} : { code }), ...error.extra };
      ctx.set('Content-Type', 'application/json');
    }
  };
}
