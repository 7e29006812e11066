import type { Context, Next } from 'koa';
import type { Authenticator, Role, User } from '../auth/users.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

/**
 * Authenticates every request except the open paths and those the web app's session cookie
 * signed in already (server/web); puts the user in `ctx.state.user`.
 */
export function authMiddleware(authenticator: Authenticator, openPaths: string[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.state.user && !openPaths.includes(ctx.path)) {
      const user = await authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
      if (!user) throw new UnauthorizedError(ctx.get('authorization') ? 'invalid credentials' : 'authentication required');
      ctx.state.user = user;
    }
    await next();
  };
}

/** The signed-in user of a request. */
export function currentUser(ctx: Context): User {
  return ctx.state.user as User;
}

/** True when the user has one of the roles. */
export function hasRole(user: User, ...roles: Role[]): boolean {
  return user.roles.some((role) => roles.includes(role));
}

/** Throws 403 unless the user has one of the roles. */
export function requireRole(user: User, ...roles: Role[]): void {
  if (!hasRole(user, ...roles)) throw new ForbiddenError(`this needs the role ${roles.join(' or ')}`);
}

/** Route middleware: 403 unless the signed-in user has one of the roles. */
export function allow(...roles: Role[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    requireRole(currentUser(ctx), ...roles);
    await next();
  };
}

/** True when the user may work external tasks of the topic: admins, and workers without a topic list or with the topic in it. */
export function mayWorkTopic(user: User, topic: string): boolean {
  if (hasRole(user, 'admin')) return true;
  return hasRole(user, 'worker') && (!user.topics || user.topics.includes(topic));
}

/** Throws 403 unless the user may work external tasks of the topic. */
export function requireTopic(user: User, topic: string): void {
  if (!mayWorkTopic(user, topic)) throw new ForbiddenError(`${user.name} may not work external tasks of topic ${topic}`);
}
