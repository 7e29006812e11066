import type { StoredUser } from '../auth/users.ts';

/** Who can be reached how: users' e-mail addresses and phone numbers from the users file. */
export interface Directory {
  /** the e-mail addresses of these users and of every member of these groups, each once */
  emails(who: { users?: readonly string[]; groups?: readonly string[] }): string[];
  /** the phone numbers of these users and of every member of these groups, each once */
  phones(who: { users?: readonly string[]; groups?: readonly string[] }): string[];
}

/** Builds the directory from the configured users. */
export function createDirectory(users: { list(): readonly StoredUser[] }): Directory {
  const reached = (who: { users?: readonly string[]; groups?: readonly string[] }): StoredUser[] =>
    users.list().filter((user) => who.users?.includes(user.name) || user.groups.some((group) => who.groups?.includes(group)));
  const unique = (values: (string | undefined)[]): string[] => [...new Set(values.filter((value): value is string => !!value))];
  return {
    emails: (who) => unique(reached(who).map((user) => user.email)),
    phones: (who) => unique(reached(who).map((user) => user.phone)),
  };
}
