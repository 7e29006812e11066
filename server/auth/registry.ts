import type { StoredUser } from './users.ts';

/**
 * The users Baton knows, replaced as a whole when the users file is read again (SIGHUP or a
 * change of the file). Readers ask for a user on every request, so a replacement counts at once.
 */
export interface UserRegistry {
  /** the user of a name, or undefined */
  get(name: string): StoredUser | undefined;
  /** every user */
  list(): readonly StoredUser[];
  /** replaces every user; returns the names whose sessions must end: users gone, or whose password hash changed */
  replace(users: readonly StoredUser[]): string[];
}

/** A registry holding `users` to begin with. */
export function createUserRegistry(users: readonly StoredUser[]): UserRegistry {
  let byName = new Map(users.map((user) => [user.name, user]));
  return {
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    replace(next) {
      const old = byName;
      byName = new Map(next.map((user) => [user.name, user]));
      return [...old.values()].filter((user) => byName.get(user.name)?.passwordHash !== user.passwordHash).map((user) => user.name);
    },
  };
}
