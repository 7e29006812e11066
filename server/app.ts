import { randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import { jsonBodyParser } from './http/json-body.ts';
import Koa from 'koa';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Authenticator } from './auth/users.ts';
import { authMiddleware } from './http/auth.ts';
import { problemMiddleware } from './http/problem.ts';

export interface AppDeps {
  log: Logger;
  authenticator: Authenticator;
  bodyLimitBytes: number;
  /** JSON bodies with more object properties are refused unparsed (BATON_JSON_MAX_PROPERTIES) */
  jsonMaxProperties?: number;
  /**
   * proxies in front of Baton whose X-Forwarded-For is believed (BATON_TRUST_PROXY): the client
   * address is the entry this many hops from the right; 0 takes the socket's address
   */
  trustProxy?: number;
  routers: Router[];
  /** the web app (server/web): pages, sign-in and cookie sessions, before authentication */
  web?: Middleware;
  /** answers GET /health */
  health: () => Promise<{ status: string }>;
}

/**
 * The Koa application. Middleware order: request id and access log, problem+json errors,
 * security headers, health (open), authentication, body parsing, routes.
 */
export function createApp({ log, authenticator, bodyLimitBytes, jsonMaxProperties = 100_000, trustProxy = 0, routers, health, web }: AppDeps): Koa {
  const app = new Koa({ proxy: trustProxy > 0, maxIpsCount: trustProxy });
  app.silent = true;

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const reqId = ctx.get('x-request-id').slice(0, 64) || randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('X-Request-Id', reqId);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        { reqId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10, user: ctx.state.user?.name },
        'request',
      );
    }
  });
  app.use(problemMiddleware(log));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    // bpmn-js needs inline style attributes and data: fonts and images; scripts only from Baton itself
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    await next();
  });
  app.use(async (ctx, next) => {
    if (ctx.path === '/health' && ctx.method === 'GET') {
      ctx.body = await health();
      return;
    }
    await next();
  });
  if (web) app.use(web);
  app.use(authMiddleware(authenticator, []));
  app.use(jsonBodyParser({ limitBytes: bodyLimitBytes, maxProperties: jsonMaxProperties }));
  app.use(
    bodyParser({
      enableTypes: ['json', 'xml'],
      extendTypes: { xml: ['text/xml', 'application/xml', 'application/bpmn+xml'] },
      jsonLimit: bodyLimitBytes,
      xmlLimit: bodyLimitBytes,
      encoding: 'utf-8',
      onError: (err, ctx) => {
        const status = (err as { status?: number }).status ?? 400;
        ctx.throw(status === 413 ? 413 : 400, status === 413 ? `request body exceeds ${bodyLimitBytes} bytes` : `malformed body: ${err.message}`);
      },
    }),
  );
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  return app;
}
