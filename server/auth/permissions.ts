import type { Role, User } from './users.ts';

/**
 * Which roles may do what, for the actions the API refuses with 403 and the web app offers or
 * hides (README, "Users"): the services and the web app's `/api/me` read this one table.
 */
const PERMISSIONS = {
  deploy: ['admin'],
  start: ['admin', 'user'],
  /** see every instance, cancel it, list and retry incidents, see process statistics */
  operate: ['admin', 'operator'],
  /** work user tasks (their own and their groups'; operate sees anyone's) */
  tasks: ['admin', 'operator', 'user'],
  /** end a user's web app sessions (DELETE /api/users/<name>/sessions) */
  revokeSessions: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/** True when one of the user's roles grants the permission. */
export function may(user: User, permission: Permission): boolean {
  const roles: readonly Role[] = PERMISSIONS[permission];
  return user.roles.some((role) => roles.includes(role));
}
