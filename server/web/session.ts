import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserRegistry } from '../auth/registry.ts';
import { publicUser, type User } from '../auth/users.ts';
import type { Store } from '../store/types.ts';

/** The web app's session cookie. */
export const SESSION_COOKIE = 'baton_session';
/** The header the web app sends its CSRF token in, on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

/** How long a session lasts after signing in. */
export const SESSION_MS = 12 * 60 * 60_000;
/** how often, at most, signing in also deletes the sessions that expired */
const SWEEP_MS = 60 * 60_000;

/** A signed-in browser: who, until when, and the token its state-changing requests must carry. */
export interface Session {
  /** the stored id (a digest of the cookie's secret) */
  id: string;
  user: User;
  expiresAt: number;
  csrfToken: string;
}

/**
 * Sessions kept in the store, so that every node sharing it sees one end at once. The cookie is
 * a random secret; the store holds its digest (with the user, the expiry and a digest of the
 * password hash the user signed in with), and every request looks it up by that id. Signing
 * out deletes the record, an admin's revocation and a changed or removed user delete all of the
 * user's, and a session whose password hash no longer matches the user's is over too. The user's
 * groups and roles are read afresh on every request.
 */
export interface SessionKeeper {
  /** a new session for a user whose password was checked: the cookie value and the session */
  open(user: User): Promise<{ cookie: string; session: Session }>;
  /** the session of a cookie value, or null when it is unknown, ended, expired, or its user is gone or changed password */
  read(cookie: string | undefined): Promise<Session | null>;
  /** true when the token is the session's CSRF token (compared in constant time) */
  checkCsrf(session: Session, token: string | undefined): boolean;
  /** ends one session (signing out) */
  end(session: Session): Promise<void>;
  /** ends every session of a user; returns how many there were */
  endAll(name: string): Promise<number>;
}

const digest = (purpose: string, text: string): string => createHash('sha256').update(`baton ${purpose}\0${text}`).digest('base64url');

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const COOKIE = /^[\w-]{43}$/;

/** Sessions of the registry's users in the store; `clock` is the time Baton sees. */
export function createSessionKeeper(store: Store, users: Pick<UserRegistry, 'get'>, clock: () => number = Date.now): SessionKeeper {
  let swept = 0;
  const credential = (passwordHash: string): string => digest('session credential', passwordHash);
  const session = (secret: string, user: User, expiresAt: number): Session => ({
    id: digest('session', secret),
    user,
    expiresAt,
    csrfToken: digest('csrf', secret),
  });

  return {
    async open(user) {
      const stored = users.get(user.name);
      if (!stored) throw new Error(`unknown user ${user.name}`);
      const now = clock();
      if (now - swept >= SWEEP_MS) {
        swept = now;
        await store.deleteExpiredSessions(new Date(now).toISOString());
      }
      const secret = randomBytes(32).toString('base64url');
      const opened = session(secret, publicUser(stored), now + SESSION_MS);
      await store.createSession({
        id: opened.id,
        user: stored.name,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(opened.expiresAt).toISOString(),
        credential: credential(stored.passwordHash),
      });
      return { cookie: secret, session: opened };
    },
    async read(cookie) {
      if (!cookie || !COOKIE.test(cookie)) return null;
      const record = await store.getSession(digest('session', cookie), new Date(clock()).toISOString());
      const stored = record && users.get(record.user);
      if (!record || !stored) return null;
      if (!same(record.credential, credential(stored.passwordHash))) {
        await store.deleteSession(record.id);
        return null;
      }
      return session(cookie, publicUser(stored), Date.parse(record.expiresAt));
    },
    checkCsrf(opened, token) {
      return typeof token === 'string' && same(token, opened.csrfToken);
    },
    end: (opened) => store.deleteSession(opened.id),
    endAll: (name) => store.deleteUserSessions(name),
  };
}
