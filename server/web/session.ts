import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoredUser, User } from '../auth/users.ts';

/** The web app's session cookie. */
export const SESSION_COOKIE = 'baton_session';
/** The header the web app sends its CSRF token in, on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

const SESSION_MS = 12 * 60 * 60_000;

/** A signed-in browser: who, until when, and the token its state-changing requests must carry. */
export interface Session {
  user: User;
  expiresAt: number;
  csrfToken: string;
}

/**
 * Stateless signed sessions: the cookie holds `<payload>.<HMAC>`, the payload the user's name, an
 * expiry and a random id; the CSRF token is an HMAC of that id. The key is derived from the
 * users' secret hashes, so every node with the same users file accepts the same sessions and a
 * changed users file ends them. The user's groups and roles are read afresh on every request.
 */
export interface SessionKeeper {
  /** a new session for a user whose password was checked: the cookie value and the session */
  open(user: User): { cookie: string; session: Session };
  /** the session of a cookie value, or null when it is forged, expired or its user is gone */
  read(cookie: string | undefined): Session | null;
  /** true when the token is the session's CSRF token (compared in constant time) */
  checkCsrf(session: Session, token: string | undefined): boolean;
}

const mac = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('base64url');

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export function createSessionKeeper(users: StoredUser[], clock: () => number = Date.now): SessionKeeper {
  const key = createHash('sha256')
    .update('baton web session\0')
    .update(users.map((user) => `${user.name}\0${user.passwordHash}\0${user.tokenHashes.join('\0')}`).join('\n'))
    .digest();
  const byName = new Map(users.map((user) => [user.name, user]));
  const session = (name: string, expiresAt: number, id: string): Session | null => {
    const stored = byName.get(name);
    if (!stored) return null;
    return { user: { name: stored.name, groups: stored.groups, roles: stored.roles }, expiresAt, csrfToken: mac(key, `csrf\0${id}`) };
  };

  return {
    open(user) {
      const expiresAt = clock() + SESSION_MS;
      const id = randomBytes(18).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ n: user.name, e: expiresAt, i: id })).toString('base64url');
      const opened = session(user.name, expiresAt, id);
      if (!opened) throw new Error(`unknown user ${user.name}`);
      return { cookie: `${payload}.${mac(key, payload)}`, session: opened };
    },
    read(cookie) {
      if (!cookie || cookie.length > 1024) return null;
      const [payload = '', signature = ''] = cookie.split('.', 2);
      if (!same(signature, mac(key, payload))) return null;
      try {
        const { n, e, i } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { n?: unknown; e?: unknown; i?: unknown };
        if (typeof n !== 'string' || typeof e !== 'number' || typeof i !== 'string' || e < clock()) return null;
        return session(n, e, i);
      } catch {
        return null;
      }
    },
    checkCsrf(opened, token) {
      return typeof token === 'string' && same(token, opened.csrfToken);
    },
  };
}
