import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { UserRegistry } from '../auth/registry.ts';
import type { Authenticator, User } from '../auth/users.ts';
import { ForbiddenError, NotFoundError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { currentUser, requireRole } from '../http/auth.ts';
import { paging, queryString } from '../http/body.ts';
import type { InstanceService } from '../instances/service.ts';
import type { InstanceStatus, Store } from '../store/types.ts';
import type { InstanceChanges } from './changes.ts';
import { createEventStreams } from './events.ts';
import { listInstances, versionStats } from './read-model.ts';
import { CSRF_HEADER, SESSION_COOKIE, SESSION_MS, type Session, type SessionKeeper } from './session.ts';
import { isWebAsset, serveWebAsset } from './static.ts';
import { may } from '../auth/permissions.ts';

export interface WebDeps {
  authenticator: Authenticator;
  users: Pick<UserRegistry, 'get'>;
  sessions: SessionKeeper;
  store: Store;
  instances: InstanceService;
  changes: InstanceChanges;
  /** live-update streams one user, and this node, may hold open (BATON_EVENT_STREAMS_PER_USER, BATON_EVENT_STREAMS_MAX) */
  eventStreams: { perUser: number; total: number };
  /** the cookie gets `Secure` when people reach Baton over https */
  publicUrl: string;
  distDir?: string;
}

/** The web app's server side: pages and bundle, sign-in with a session cookie, and its read endpoints. */
export interface Web {
  /** before authentication: serves the app, signs in, and authenticates cookie requests (CSRF-checked) */
  middleware: Middleware;
  /** after authentication: /api/me, sign-out, the read model and live updates */
  router: Router;
  /** ends the live-update streams (the server closes) */
  close(): void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SIGN_IN_LIMIT = 4096;
const STATUSES: InstanceStatus[] = ['running', 'completed', 'failed', 'cancelled'];

/** What the web app offers a user; the API enforces the same rules (README, roles). */
export function capabilities(user: User) {
  const operates = may(user, 'operate');
  return {
    deploy: may(user, 'deploy'),
    start: may(user, 'start'),
    cancel: operates,
    retry: operates,
    seeAllInstances: operates,
    processStats: operates,
    tasks: may(user, 'tasks'),
  };
}

async function readSmallBody(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > SIGN_IN_LIMIT) throw new PayloadTooLargeError(SIGN_IN_LIMIT);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isoOrUndefined = (ctx: Context, name: string): string | undefined => {
  const value = queryString(ctx, name);
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new ValidationError(`${name} must be a date or time`, [{ path: name, message: 'not a date' }]);
  return new Date(time).toISOString();
};

export function createWeb({ authenticator, users, sessions, store, instances, changes, eventStreams, publicUrl, distDir }: WebDeps): Web {
  const streams = createEventStreams({ store, changes, ...eventStreams });
  const secure = publicUrl.startsWith('https:') ? '; Secure' : '';
  const setCookie = (ctx: Context, value: string, maxAgeSeconds: number): void => {
    ctx.append('Set-Cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`);
  };

  /** POST /api/session {user, password}: checks the password as the API does and sets the cookie. */
  const signIn = async (ctx: Context): Promise<void> => {
    // JSON only: a cross-site HTML form cannot send it, so no one signs a victim in to their own account
    if (!ctx.is('application/json')) throw new UnsupportedMediaTypeError('sign in with a JSON body {user, password}');
    let body: { user?: unknown; password?: unknown };
    try {
      body = JSON.parse(await readSmallBody(ctx));
    } catch (err) {
      if (err instanceof PayloadTooLargeError) throw err;
      throw new ValidationError('malformed JSON body');
    }
    const { user: name, password } = body ?? {};
    if (typeof name !== 'string' || !name || typeof password !== 'string' || !password || name.length > 64) {
      throw new ValidationError('user and password are required', [
        ...(typeof name === 'string' && name ? [] : [{ path: 'user', message: 'is required' }]),
        ...(typeof password === 'string' && password ? [] : [{ path: 'password', message: 'is required' }]),
      ]);
    }
    const user = await authenticator.signIn(name, password, ctx.ip);
    if (!user) throw new UnauthorizedError('wrong user or password');
    const { cookie, session } = await sessions.open(user);
    setCookie(ctx, cookie, Math.floor(SESSION_MS / 1000));
    ctx.body = { ...session.user, csrfToken: session.csrfToken, may: capabilities(session.user) };
  };

  const middleware: Middleware = async (ctx, next) => {
    if (isWebAsset(ctx)) return serveWebAsset(ctx, distDir);
    if (ctx.path === '/api/session' && ctx.method === 'POST') return signIn(ctx);
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    if (cookie && !ctx.get('authorization')) {
      const session = await sessions.read(cookie);
      if (session) {
        if (!SAFE_METHODS.has(ctx.method) && !sessions.checkCsrf(session, ctx.get(CSRF_HEADER) || undefined)) {
          throw new ForbiddenError(`CSRF token missing or wrong: a request signed in by the session cookie must send the ${CSRF_HEADER} header from /api/me`);
        }
        ctx.state.user = session.user;
        ctx.state.session = session;
      }
    }
    await next();
  };

  const router = new Router();
  router.get('/api/me', (ctx) => {
    const user = currentUser(ctx);
    const session = ctx.state.session as Session | undefined;
    ctx.body = { ...user, ...(session ? { csrfToken: session.csrfToken } : {}), may: capabilities(user) };
  });
  router.delete('/api/session', async (ctx) => {
    const session = ctx.state.session as Session | undefined;
    if (session) await sessions.end(session);
    setCookie(ctx, '', 0);
    ctx.status = 204;
  });
  /** an admin ends every web app session of a user, on every node (their passwords and tokens still work) */
  router.delete('/api/users/:name/sessions', async (ctx) => {
    if (!may(currentUser(ctx), 'revokeSessions')) throw new ForbiddenError('this needs the role admin');
    const name = ctx.params.name as string;
    if (!users.get(name)) throw new NotFoundError('user', name);
    ctx.body = { user: name, revoked: await sessions.endAll(name) };
  });
  router.get('/api/web/processes/:key/stats', async (ctx) => {
    requireRole(currentUser(ctx), 'admin', 'operator');
    const version = Number(queryString(ctx, 'version'));
    if (!Number.isInteger(version) || version < 1) throw new ValidationError('version must be a positive integer', [{ path: 'version', message: 'required' }]);
    ctx.body = await versionStats(store, ctx.params.key as string, version);
  });
  router.get('/api/web/instances', async (ctx) => {
    requireRole(currentUser(ctx), 'admin', 'operator', 'user');
    const status = queryString(ctx, 'status');
    if (status && !STATUSES.includes(status as InstanceStatus)) {
      throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, [{ path: 'status', message: 'unknown status' }]);
    }
    const processKey = queryString(ctx, 'processKey');
    const businessKey = queryString(ctx, 'businessKey');
    const startedFrom = isoOrUndefined(ctx, 'startedFrom');
    const startedTo = isoOrUndefined(ctx, 'startedTo');
    ctx.body = await listInstances(
      instances,
      {
        ...paging(ctx),
        ...(status ? { status: status as InstanceStatus } : {}),
        ...(processKey ? { processKey } : {}),
        ...(businessKey ? { businessKey } : {}),
        ...(startedFrom ? { startedFrom } : {}),
        ...(startedTo ? { startedTo } : {}),
      },
      currentUser(ctx),
    );
  });
  router.get('/api/web/instances/:id/events', async (ctx) => {
    requireRole(currentUser(ctx), 'admin', 'operator', 'user');
    await streams.open(ctx, ctx.params.id as string, currentUser(ctx));
  });

  return { middleware, router, close: () => streams.close() };
}
