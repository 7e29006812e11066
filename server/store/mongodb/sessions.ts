import type { Collection } from 'mongodb';
import { ConflictError } from '../../errors.ts';
import type { SessionRecord, Store } from '../types.ts';
import { isDuplicateKey } from './errors.ts';

/** A session as stored: its id is `_id`, so the lookup on every request is by `_id` (FerretDB 1.x uses no other index). */
export type SessionDoc = Omit<SessionRecord, 'id'> & { _id: string };

type SessionMethods = Pick<Store, 'createSession' | 'getSession' | 'deleteSession' | 'deleteUserSessions' | 'deleteExpiredSessions'>;

/**
 * The session methods of the MongoDB store. Revoking a user's sessions and deleting expired ones
 * scan the collection on FerretDB; both are rare, and the collection holds only live sessions.
 */
export function mongoSessions(sessions: Collection<SessionDoc>): SessionMethods {
  return {
    async createSession({ id, ...rest }) {
      try {
        await sessions.insertOne({ _id: id, ...rest });
      } catch (err) {
        if (isDuplicateKey(err)) throw new ConflictError('the session exists already');
        throw err;
      }
    },
    async getSession(id, now) {
      const doc = await sessions.findOne({ _id: id });
      if (!doc || doc.expiresAt <= now) return null;
      const { _id, ...rest } = doc;
      return { id: _id, ...rest };
    },
    async deleteSession(id) {
      await sessions.deleteOne({ _id: id });
    },
    async deleteUserSessions(user) {
      return (await sessions.deleteMany({ user })).deletedCount;
    },
    async deleteExpiredSessions(now) {
      return (await sessions.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
    },
  };
}
