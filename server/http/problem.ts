import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { BatonError, TooManyRequestsError } from '../errors.ts';

/**
 * The first middleware: turns every thrown error into an RFC 9457 application/problem+json
 * response. Baton's errors keep their status and problems; client errors from Koa and the body
 * parser (with `expose`) keep theirs; anything else is a logged 500 with no details.
 */
export function problemMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new BatonError(404, 'Not found', `no resource at ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const error = err as Error & { status?: number; expose?: boolean; headers?: Record<string, string> };
      let status = 500;
      let title = 'Internal server error';
      let detail = 'an unexpected error occurred';
      let problems: unknown[] | undefined;
      if (error instanceof BatonError) {
        ({ status, title } = error);
        detail = error.message;
        if (error.problems.length) problems = error.problems;
      } else if (error.expose && error.status && error.status < 500) {
        status = error.status;
        title = httpTitle(status);
        detail = error.message;
      } else {
        log.error({ err: error, reqId: ctx.state.reqId }, 'request failed');
      }
      ctx.status = status;
      ctx.type = 'application/problem+json';
      ctx.body = { type: 'about:blank', title, status, detail, instance: ctx.path, ...(problems ? { problems } : {}) };
      // the web app signs in on its own page: no browser password prompt for its requests
      if (status === 401 && ctx.get('x-requested-with') !== 'baton-web') ctx.set('WWW-Authenticate', 'Basic realm="baton", charset="UTF-8"');
      if (error instanceof TooManyRequestsError) ctx.set('Retry-After', String(error.retryAfterSeconds));
    }
  };
}

function httpTitle(status: number): string {
  const titles: Record<number, string> = {
    400: 'Invalid request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not found',
    405: 'Method not allowed',
    409: 'Conflict',
    413: 'Payload too large',
    415: 'Unsupported media type',
  };
  return titles[status] ?? 'Client error';
}
