/**
 * The session part of the store contract (server/store/types.ts), run by the conformance suite
 * for every store: a signed-in session is one record, looked up by id, gone once revoked.
 */
import assert from 'node:assert/strict';
import { ConflictError } from '../../server/errors.ts';
import type { SessionRecord, Store } from '../../server/store/types.ts';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** A session of a user that expires `minutes` after the suite's origin. */
function session(id: string, user: string, minutes = 60): SessionRecord {
  return { id, user, createdAt: at(0), expiresAt: at(minutes), credential: `${user}-credential` };
}

/** The session cases, on the store the suite made fresh for the case. */
export function sessionConformance(current: () => Store): void {
  describe('sessions', () => {
    it('returns a saved session by id until it expires, and null for an unknown id', async () => {
      const store = current();
      const mary = session('s-1', 'mary', 60);
      await store.createSession(mary);
      assert.deepEqual(await store.getSession('s-1', at(59)), mary);
      assert.equal(await store.getSession('s-1', at(60)), null, 'expired at expiresAt');
      assert.equal(await store.getSession('s-2', at(0)), null);
    });

    it('rejects a second session with an existing id and keeps the first', async () => {
      const store = current();
      await store.createSession(session('s-1', 'mary'));
      await assert.rejects(store.createSession(session('s-1', 'demo')), ConflictError);
      assert.equal((await store.getSession('s-1', at(0)))?.user, 'mary');
    });

    it('ends one session, leaving the user\'s others; ending an unknown one is no error', async () => {
      const store = current();
      await store.createSession(session('s-1', 'mary'));
      await store.createSession(session('s-2', 'mary'));
      await store.deleteSession('s-1');
      await store.deleteSession('unknown');
      assert.equal(await store.getSession('s-1', at(0)), null);
      assert.equal((await store.getSession('s-2', at(0)))?.id, 's-2');
    });

    it('ends every session of one user and counts them, leaving other users\' sessions', async () => {
      const store = current();
      for (const [id, user] of [['s-1', 'mary'], ['s-2', 'demo'], ['s-3', 'mary']] as const) await store.createSession(session(id, user));
      assert.equal(await store.deleteUserSessions('mary'), 2);
      assert.equal(await store.deleteUserSessions('mary'), 0);
      assert.equal(await store.getSession('s-1', at(0)), null);
      assert.equal(await store.getSession('s-3', at(0)), null);
      assert.equal((await store.getSession('s-2', at(0)))?.user, 'demo');
    });

    it('deletes the sessions expired at a time and keeps the others', async () => {
      const store = current();
      await store.createSession(session('s-1', 'mary', 10));
      await store.createSession(session('s-2', 'mary', 20));
      await store.createSession(session('s-3', 'demo', 30));
      assert.equal(await store.deleteExpiredSessions(at(20)), 2);
      assert.equal(await store.deleteExpiredSessions(at(20)), 0);
      assert.equal((await store.getSession('s-3', at(0)))?.user, 'demo');
      assert.equal(await store.deleteUserSessions('mary'), 0, 'the expired ones are gone');
    });
  });
}
