/**
 * Typed errors of Baton's services. Routes and services throw them; the problem middleware
 * (server/http/problem.ts) maps each to an RFC 9457 problem+json response.
 */

/** One problem found in a request or a BPMN file: which element or field, and what is wrong. */
export interface Problem {
  /** the element id, form field or request property concerned */
  path?: string;
  message: string;
}

/** Base class: an error a client can act on, with its HTTP status. */
export class BatonError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown when the request is malformed or a value breaks a rule (form, BPMN, body). */
export class ValidationError extends BatonError {
  constructor(message: string, problems: Problem[] = []) {
    super(400, 'Invalid request', message, problems);
  }
}

/** Thrown when a resource (process, instance, task, external task) does not exist. */
export class NotFoundError extends BatonError {
  constructor(resource: string, id: string) {
    super(404, 'Not found', `${resource} <${id}> not found`);
  }
}

/** Thrown when the resource is not in a state that allows the action (task already completed). */
export class ConflictError extends BatonError {
  constructor(message: string) {
    super(409, 'Conflict', message);
  }
}

/** Thrown when no valid credentials were sent. */
export class UnauthorizedError extends BatonError {
  constructor(message = 'authentication required') {
    super(401, 'Unauthorized', message);
  }
}

/** Thrown when the signed-in user may not do this. */
export class ForbiddenError extends BatonError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}

/** Thrown when a request body (or a part of it, such as one variable) is larger than allowed. */
export class PayloadTooLargeError extends BatonError {
  constructor(limit: number, message = `request body exceeds ${limit} bytes`, problems: Problem[] = []) {
    super(413, 'Payload too large', message, problems);
  }
}

/** Thrown when a variable, or an instance's variables together, would exceed the configured size. */
export class VariableTooLargeError extends PayloadTooLargeError {
  constructor(name: string, message: string, limit: number) {
    super(limit, message, [{ path: name, message }]);
  }
}

/** Thrown when the request body has a media type the endpoint does not take. */
export class UnsupportedMediaTypeError extends BatonError {
  constructor(message: string) {
    super(415, 'Unsupported media type', message);
  }
}

/** Thrown when a caller failed to sign in too often; `retryAfterSeconds` goes out as Retry-After. */
export class TooManyRequestsError extends BatonError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'Too many requests', message);
  }
}

/**
 * Thrown by a store when a compare-and-set on an instance's revision lost: another writer saved
 * first. Services reload and retry; it reaches a client only as a 409 after retries ran out.
 */
export class RevisionConflictError extends ConflictError {
  constructor(instanceId: string) {
    super(`instance <${instanceId}> was changed concurrently`);
  }
}
