import type Database from 'better-sqlite3';
import { ConflictError } from '../../errors.ts';
import type { SessionRecord, Store } from '../types.ts';

/** The sessions table: looked up by its primary key on every request a cookie signs in. */
export const SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
`;

type SessionMethods = Pick<Store, 'createSession' | 'getSession' | 'deleteSession' | 'deleteUserSessions' | 'deleteExpiredSessions'>;

/** The session methods of the embedded store, on its database. */
export function sqliteSessions(db: Database.Database): SessionMethods {
  db.exec(SESSIONS_SCHEMA);
  const q = {
    insert: db.prepare('INSERT INTO sessions (id, user, expires_at, doc) VALUES (?, ?, ?, ?)'),
    get: db.prepare('SELECT doc FROM sessions WHERE id = ? AND expires_at > ?'),
    delete: db.prepare('DELETE FROM sessions WHERE id = ?'),
    deleteUser: db.prepare('DELETE FROM sessions WHERE user = ?'),
    deleteExpired: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
  };
  return {
    async createSession(session: SessionRecord) {
      try {
        q.insert.run(session.id, session.user, session.expiresAt, JSON.stringify(session));
      } catch (err) {
        if (String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) throw new ConflictError('the session exists already');
        throw err;
      }
    },
    async getSession(id, now) {
      const row = q.get.get(id, now) as { doc: string } | undefined;
      return row ? (JSON.parse(row.doc) as SessionRecord) : null;
    },
    async deleteSession(id) {
      q.delete.run(id);
    },
    async deleteUserSessions(user) {
      return q.deleteUser.run(user).changes;
    },
    async deleteExpiredSessions(now) {
      return q.deleteExpired.run(now).changes;
    },
  };
}
