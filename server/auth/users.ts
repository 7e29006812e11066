import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { E164, EMAIL } from '../config.ts';
import { TooManyRequestsError } from '../errors.ts';
import { createSignInLimiter, PASSWORD_LIMITS, TOKEN_LIMITS, type SignInLimits } from './limiter.ts';
import type { UserRegistry } from './registry.ts';
import { digest, hashSecret, verifySecret } from './secrets.ts';

/** What a user may do: see the README's role table. */
export type Role = 'admin' | 'operator' | 'worker' | 'user';
const ROLES: Role[] = ['admin', 'operator', 'worker', 'user'];

/** A signed-in user as the services see it. */
export interface User {
  name: string;
  groups: string[];
  roles: Role[];
  /** for workers: the topics whose external tasks they may fetch and finish; absent: every topic */
  topics?: string[];
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

/** Reads and checks a users file: `{"users": [{name, passwordHash, groups, roles, topics, tokenHashes, email, phone}]}`. */
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
    if (entry.topics !== undefined && (!Array.isArray(entry.topics) || entry.topics.some((topic) => typeof topic !== 'string' || !topic))) {
      throw new Error(`${where}: topics must be a list of topic names`);
    }
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
      ...(entry.topics ? { topics: entry.topics } : {}),
      ...(entry.email ? { email: entry.email } : {}),
      ...(entry.phone ? { phone: entry.phone } : {}),
    };
  });
}

/**
 * The demo users of `BATON_DEMO`: demo/demo (admin), mary/mary (managers), worker/worker; each
 * with `<name>@example.com`. Their passwords are public, so their salts are fixed: every node
 * and every restart has the same hashes, and a session survives both. `workerToken` gives
 * worker an API token (the demo workers sign in with it).
 */
export async function demoUsers(options: { workerToken?: string } = {}): Promise<StoredUser[]> {
  const make = async (name: string, roles: Role[], groups: string[], token?: string): Promise<StoredUser> => ({
    name,
    passwordHash: await hashSecret(name, createHash('sha256').update(`baton demo user\0${name}`).digest().subarray(0, 16)),
    groups,
    roles,
    tokenHashes: token ? [await hashSecret(token)] : [],
    email: `${name}@example.com`,
  });
  return Promise.all([
    make('demo', ['admin'], ['admins']),
    make('mary', ['user'], ['managers']),
    make('worker', ['worker'], ['workers'], options.workerToken),
  ]);
}

/**
 * Checks credentials: a Basic password or a Bearer API token (`Bearer <name>:<token>`).
 * Verified ones are remembered for a while so scrypt runs once, not per request; a remembered
 * credential proves itself and is never throttled. Password checks are throttled per account and
 * address (limiter.ts, PASSWORD_LIMITS); token checks are not, only an address's wrong tokens
 * are (TOKEN_LIMITS). The web app's sign-in form goes through {@link Authenticator.signIn}.
 */
export interface Authenticator {
  /** the user for an Authorization header, or null when it is missing or wrong; TooManyRequestsError when limited */
  authenticate(header: string | undefined, address?: string): Promise<User | null>;
  /** the user for a name and password, or null when wrong; TooManyRequestsError when limited */
  signIn(name: string, password: string, address?: string): Promise<User | null>;
}

const CACHE_MS = 5 * 60_000;
const CACHE_SIZE = 10_000;

/** The user as the services see it: no secrets. */
export const publicUser = ({ name, groups, roles, topics }: StoredUser): User => ({ name, groups, roles, ...(topics ? { topics } : {}) });

export function createAuthenticator(
  users: Pick<UserRegistry, 'get'>,
  options: { limits?: { password?: SignInLimits; token?: SignInLimits }; now?: () => number } = {},
): Authenticator {
  const now = options.now ?? Date.now;
  // a cached credential counts only while the user is the one it was checked against (not reloaded since)
  const verified = new Map<string, { stored: StoredUser; until: number }>();
  const limiters = {
    password: createSignInLimiter(options.limits?.password ?? PASSWORD_LIMITS, now),
    token: createSignInLimiter(options.limits?.token ?? TOKEN_LIMITS, now),
  };
  // an unknown name costs one scrypt like a known one, so timing does not tell which names exist
  const decoy = hashSecret(randomUUID());

  const verify = async (name: string, secret: string, kind: 'password' | 'token', address: string | undefined): Promise<StoredUser | null> => {
    const limiter = limiters[kind];
    const wait = limiter.admit(name, address);
    if (wait > 0) throw new TooManyRequestsError(`too many failed sign-ins; try again in ${wait} s`, wait);
    const user = users.get(name);
    const own = !user ? [] : kind === 'password' ? [user.passwordHash] : user.tokenHashes;
    let ok = false;
    for (const hash of own.length ? own : [await decoy]) if ((await verifySecret(secret, hash)) && own.length && secret) ok = true;
    if (!ok || !user) {
      limiter.failed(name, address);
      return null;
    }
    limiter.succeeded(name, address);
    return user;
  };

  /** name, secret and kind of an Authorization header, or null when it is malformed */
  const parse = (header: string): [string, string, 'password' | 'token'] | null => {
    const [scheme, credentials = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1), 'password'];
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const colon = credentials.indexOf(':');
      return colon < 0 ? null : [credentials.slice(0, colon), credentials.slice(colon + 1), 'token'];
    }
    return null;
  };

  return {
    async authenticate(header, address) {
      if (!header || header.length > 4096) return null;
      const parsed = parse(header);
      if (!parsed || !parsed[0]) return null;
      const [name, secret, kind] = parsed;
      const key = digest(header);
      const hit = verified.get(key);
      if (hit && hit.until > now() && users.get(name) === hit.stored) return publicUser(hit.stored);
      const stored = await verify(name, secret, kind, address);
      if (!stored) return null;
      if (verified.size >= CACHE_SIZE) verified.clear();
      verified.set(key, { stored, until: now() + CACHE_MS });
      return publicUser(stored);
    },
    async signIn(name, password, address) {
      if (!name || name.length > 64 || password.length > 1024) return null;
      const stored = await verify(name, password, 'password', address);
      return stored && publicUser(stored);
    },
  };
}
