import type { Context, Next } from 'koa';
import type { Authenticator, Role, User } from '../auth/users.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

/** Authenticates every request except the open paths; puts the user in `ctx.state.user`. */
export function authMiddleware(authenticator: Authenticator, openPaths: string[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!openPaths.includes(ctx.path)) {
      const user = await authenticator.authenticate(ctx.get('authorization') || undefined);
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
