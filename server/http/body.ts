import type { Context } from 'koa';
import { UnsupportedMediaTypeError, ValidationError } from '../errors.ts';

/** The JSON object a request sent (the body parser has run); {} when there was no body. */
export function jsonBody(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as unknown as { body?: unknown }).body;
  const sent = Boolean(ctx.request.length) || ctx.get('transfer-encoding') !== '';
  if (sent && ctx.get('content-type') && !ctx.is('json')) {
    throw new UnsupportedMediaTypeError(`the body must be JSON (Content-Type: application/json), not ${ctx.get('content-type').slice(0, 100)}`);
  }
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && !Object.keys(body).length)) {
    if (ctx.request.length && !ctx.is('json')) throw new UnsupportedMediaTypeError('the body must be JSON (Content-Type: application/json)');
    return {};
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Reads an optional string property, rejecting other types. */
export function optionalString(body: Record<string, unknown>, name: string, max = 256): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new ValidationError(`${name} must be a string of at most ${max} characters`, [{ path: name, message: 'must be a string' }]);
  }
  return value;
}

/** Reads a required string property. */
export function requiredString(body: Record<string, unknown>, name: string, max = 256): string {
  const value = optionalString(body, name, max);
  if (!value) throw new ValidationError(`${name} is required`, [{ path: name, message: 'is required' }]);
  return value;
}

/** Reads an optional integer property within bounds. */
export function optionalInt(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be an integer from ${min} to ${max}`, [{ path: name, message: `must be an integer from ${min} to ${max}` }]);
  }
  return value;
}

/** Paging from the query string: offset (default 0) and limit (default 50, at most 500). */
export function paging(ctx: Context): { offset: number; limit: number } {
  const read = (name: string, fallback: number, max: number): number => {
    const raw = ctx.query[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(value) || value < 0 || value > max) {
      throw new ValidationError(`${name} must be an integer from 0 to ${max}`, [{ path: name, message: 'out of range' }]);
    }
    return value;
  };
  return { offset: read('offset', 0, 1_000_000_000), limit: Math.max(1, read('limit', 50, 500)) };
}

/** A single query-string value, or undefined. */
export function queryString(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new ValidationError(`${name} may be given once`);
  return value || undefined;
}
