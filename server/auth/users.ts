import fs from 'node:fs';
import { E164, EMAIL } from '../config.ts';
import { digest, hashSecret, verifySecret } from './secrets.ts';

/** What a user may do: see the README's role table. */
export type Role = 'admin' | 'operator' | 'worker' | 'user';
const ROLES: Role[] = ['admin', 'operator', 'worker', 'user'];

/** A signed-in user as the services see it. */
export interface User {
  name: string;
  groups: string[];
  roles: Role[];
}

/** A user as the users file stores it: secrets only as scrypt hashes. */
export interface StoredUser extends User {
  passwordHash: string;
  /** hashes of API tokens; a token is sent as `Bearer <name>:<secret>` (names hold no colon) */
  tokenHashes: string[];
  /** where task notifications go */
  email?: string;
  /** E.164 number for SMS */
  phone?: string;
}

/** Reads and checks a users file: `{"users": [{name, passwordHash, groups, roles, tokenHashes, email, phone}]}`. */
export function loadUsersFile(file: string): StoredUser[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`BATON_USERS_FILE ${file} cannot be read: ${(err as Error).message}`);
  }
  const list = (parsed as { users?: unknown }).users;
  if (!Array.isArray(list)) throw new Error(`BATON_USERS_FILE ${file} must hold {"users": [...]}`);
  return list.map((entry: Partial<StoredUser>, index) => {
    const where = `BATON_USERS_FILE ${file}, user ${index + 1}`;
    if (typeof entry.name !== 'string' || !/^[\w.@-]{1,64}$/.test(entry.name)) throw new Error(`${where}: bad name`);
    if (typeof entry.passwordHash !== 'string' || !entry.passwordHash.startsWith('scrypt$')) {
      throw new Error(`${where}: passwordHash must be an scrypt hash (npm run hash-secret)`);
    }
    const roles = entry.roles ?? ['user'];
    if (!Array.isArray(roles) || roles.some((role) => !ROLES.includes(role))) throw new Error(`${where}: roles must be of ${ROLES.join(', ')}`);
    if (entry.email !== undefined && (typeof entry.email !== 'string' || !EMAIL.test(entry.email))) throw new Error(`${where}: email must be an e-mail address`);
    if (entry.phone !== undefined && (typeof entry.phone !== 'string' || !E164.test(entry.phone))) {
      throw new Error(`${where}: phone must be in E.164 form, e.g. +41791234567`);
    }
    return {
      name: entry.name,
      passwordHash: entry.passwordHash,
      groups: Array.isArray(entry.groups) ? entry.groups.map(String) : [],
      roles,
      tokenHashes: Array.isArray(entry.tokenHashes) ? entry.tokenHashes.map(String) : [],
      ...(entry.email ? { email: entry.email } : {}),
      ...(entry.phone ? { phone: entry.phone } : {}),
    };
  });
}

/** The demo users of `BATON_DEMO`: demo/demo (admin), mary/mary (managers), worker/worker; each with `<name>@example.com`. */
export async function demoUsers(): Promise<StoredUser[]> {
  const make = async (name: string, roles: Role[], groups: string[]): Promise<StoredUser> => ({
    name,
    passwordHash: await hashSecret(name),
    groups,
    roles,
    tokenHashes: [],
    email: `${name}@example.com`,
  });
  return Promise.all([
    make('demo', ['admin'], ['admins']),
    make('mary', ['user'], ['managers']),
    make('worker', ['worker'], ['workers']),
  ]);
}

/** Checks credentials; verified ones are remembered for a while so scrypt runs once, not per request. */
export interface Authenticator {
  /** the user for an Authorization header, or null when it is missing or wrong */
  authenticate(header: string | undefined): Promise<User | null>;
}

const CACHE_MS = 5 * 60_000;
const CACHE_SIZE = 10_000;

export function createAuthenticator(users: StoredUser[]): Authenticator {
  const byName = new Map(users.map((user) => [user.name, user]));
  const verified = new Map<string, { user: User; until: number }>();
  const publicUser = ({ name, groups, roles }: StoredUser): User => ({ name, groups, roles });

  const check = async (header: string): Promise<User | null> => {
    const [scheme, credentials = ''] = header.split(' ', 2);
    let name: string;
    let secret: string;
    let kind: 'password' | 'token';
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return null;
      [name, secret, kind] = [decoded.slice(0, colon), decoded.slice(colon + 1), 'password'];
    } else if (scheme?.toLowerCase() === 'bearer') {
      const colon = credentials.indexOf(':');
      if (colon < 0) return null;
      [name, secret, kind] = [credentials.slice(0, colon), credentials.slice(colon + 1), 'token'];
    } else return null;
    const user = byName.get(name);
    if (!user || !secret) return null;
    const hashes = kind === 'password' ? [user.passwordHash] : user.tokenHashes;
    for (const hash of hashes) if (await verifySecret(secret, hash)) return publicUser(user);
    return null;
  };

  return {
    async authenticate(header) {
      if (!header || header.length > 4096) return null;
      const key = digest(header);
      const hit = verified.get(key);
      if (hit && hit.until > Date.now()) return hit.user;
      const user = await check(header);
      if (user) {
        if (verified.size >= CACHE_SIZE) verified.clear();
        verified.set(key, { user, until: Date.now() + CACHE_MS });
      }
      return user;
    },
  };
}
