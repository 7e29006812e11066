/**
 * The MongoDB store passes the store contract, each case in a fresh database: against the
 * MongoDB at MONGODB_URI when set, else against a FerretDB started for this file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { RevisionConflictError } from '../../server/errors.ts';
import { listingOf, type InstanceRecord, type Store } from '../../server/store/types.ts';
import { createMongoStore } from '../../server/store/mongodb/index.ts';
import { type FerretDb, startFerretDb } from '../helpers/ferretdb.ts';
import { instance, storeConformance } from './conformance.ts';

const explicitUri = process.env.MONGODB_URI;
const ferretDb: FerretDb | null = explicitUri ? null : await startFerretDb();
const uri = explicitUri ?? ferretDb?.uri;

if (uri) {
  const admin = new MongoClient(uri);
  after(async () => {
    await admin.close();
    await ferretDb?.stop();
  });

  const freshDb = async (options: Parameters<typeof createMongoStore>[1] = {}) => {
    const dbName = `baton_test_${randomUUID().slice(0, 8)}`;
    const store = await createMongoStore(uri, { ...options, dbName });
    return {
      store,
      db: admin.db(dbName),
      async cleanup() {
        await store.close();
        await admin.db(dbName).dropDatabase();
      },
    };
  };

  storeConformance(explicitUri ? 'mongodb (MONGODB_URI)' : 'mongodb on FerretDB', freshDb);

  describe('mongodb store: beyond the contract', () => {
    let fresh: Awaited<ReturnType<typeof freshDb>>;
    let store: Store;
    afterEach(async () => {
      await fresh.cleanup();
    });

    const record = (overrides: Partial<InstanceRecord> = {}): InstanceRecord => instance('i-1', overrides);

    it('round-trips JSON that BSON or FerretDB cannot hold as a document ($ . NUL keys, nested arrays, lone surrogates) everywhere', async () => {
      ({ store } = fresh = await freshDb());
      const odd = { $set: 1, 'a.b': { 'c\u0000d': [[1, [2]], []] }, lone: 'x\ud800y', plain: { ok: true } };
      const task = {
        id: 't-1',
        elementId: 'Approve',
        executionId: 'Approve_1',
        name: 'Approve',
        assignee: 'mary',
        candidateUsers: [],
        candidateGroups: [],
        formFields: [{ id: 'f', label: 'F', type: 'string' as const, required: false, constraints: { 'my.validator': 'x' } }],
        createdAt: '2030-01-01T00:00:00.000Z',
      };
      const job = {
        id: 'j-1',
        elementId: 'Pay',
        executionId: 'Pay_1',
        elementName: 'Pay',
        topic: 'pay',
        retries: null,
        availableAt: '2030-01-01T00:00:00.000Z',
        lockedBy: null,
        lockExpiresAt: null,
        incident: null,
        createdAt: '2030-01-01T00:00:00.000Z',
        input: odd,
        attempt: 2,
        notification: { reason: 'task' as const, taskId: 't-1' },
      };
      const saved = record({ variables: odd, state: { engine: odd }, userTasks: [task], jobs: [job], historySeq: 1 });
      const event = { instanceId: 'i-1', seq: 1, at: '2030-01-01T00:00:00.000Z', type: 'instance.started', data: odd };
      await store.createInstance(saved, [event]);
      assert.deepEqual(await store.getInstance('i-1'), saved);
      assert.deepEqual((await store.findInstances({ offset: 0, limit: 10 })).items, [listingOf(saved)]);
      assert.deepEqual((await store.findTasks({ assignee: 'mary', offset: 0, limit: 10 })).items, [
        { ...task, instanceId: 'i-1', processKey: 'order', businessKey: null },
      ]);
      assert.deepEqual(await store.findInstanceByJob('j-1'), saved);
      assert.deepEqual(await store.findLockableJobs(['pay'], '2030-01-02T00:00:00.000Z', 10), [{ instanceId: 'i-1', jobId: 'j-1' }]);
      assert.deepEqual(await store.history('i-1'), [event]);
      await store.updateInstance({ ...saved, variables: { plain: 1 } }, 1, []);
      assert.deepEqual((await store.getInstance('i-1'))?.variables, { plain: 1 });
    });

    it('keeps one state document per instance: a save deletes the one it replaced, a losing writer its own', async () => {
      ({ store } = fresh = await freshDb());
      await store.createInstance(record(), []);
      await store.createInstance(record({ id: 'i-2' }), []);
      for (const step of [1, 2, 3]) await store.updateInstance(record({ variables: { step } }), step, []);
      const writers = await Promise.allSettled(
        Array.from({ length: 6 }, (_, writer) => store.updateInstance(record({ variables: { writer } }), 4, [])),
      );
      assert.equal(writers.filter((result) => result.status === 'fulfilled').length, 1);
      const states = await fresh.db.collection<{ instanceId: string; revision: number }>('instance_states').find({}).toArray();
      assert.deepEqual(states.map((state) => `${state.instanceId}@${state.revision}`).sort(), ['i-1@5', 'i-2@1']);
    });

    it('reads the latest record while another node saves the instance and deletes the states it replaces', async () => {
      ({ store } = fresh = await freshDb());
      const other = await createMongoStore(uri, { dbName: fresh.db.databaseName });
      try {
        await store.createInstance(record(), []);
        let saving = true;
        const saves = (async () => {
          for (let step = 1; step <= 30; step++) await store.updateInstance(record({ variables: { step } }), step, []);
          saving = false;
        })();
        let reads = 0;
        let last = 0;
        while (saving) {
          const read = await other.getInstance('i-1');
          assert.ok(read && read.revision >= last && read.variables.step === (read.revision > 1 ? read.revision - 1 : undefined));
          last = read.revision;
          reads++;
        }
        await saves;
        assert.ok(reads > 1);
        assert.equal((await other.getInstance('i-1'))?.revision, 31);
      } finally {
        await other.close();
      }
    });

    it('moves a long history into batches and still returns all of it in order, also after losing writers', async () => {
      ({ store } = fresh = await freshDb({ historyBatchEvents: 4 }));
      const event = (seq: number, data?: Record<string, number>) => ({
        instanceId: 'i-1',
        seq,
        at: `2030-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
        type: `step.${seq}`,
        ...(data ? { data } : {}),
      });
      const expected = [event(1)];
      await store.createInstance(record(), expected);
      for (let revision = 1; revision <= 10; revision++) {
        // three writers race for each revision, each with its own next events; one wins
        const next = expected.length + 1;
        const proposed = [0, 1, 2].map((writer) => Array.from({ length: 1 + (revision % 3) }, (_, i) => event(next + i, { writer })));
        const racing = await Promise.allSettled(proposed.map((events) => store.updateInstance(record(), revision, events)));
        const winner = racing.findIndex((result) => result.status === 'fulfilled');
        assert.ok(winner >= 0, `a writer of revision ${revision + 1} won`);
        expected.push(...proposed[winner]!);
      }
      assert.deepEqual(await store.history('i-1'), expected);
      assert.ok((await fresh.db.collection('history').countDocuments()) >= 2, 'the history went into batches');
    });

    it('gives up the revision claim of a writer that died before writing, once the claim timed out', async () => {
      ({ store } = fresh = await freshDb({ mode: 'ferretdb', claimTimeoutMs: 60_000 }));
      await store.createInstance(record(), []);
      // a writer claimed revision 2 and died; the instance is still at revision 1
      const claims = fresh.db.collection<{ _id: string; token: string; claimedAt: number }>('revision_claims');
      await claims.insertOne({ _id: 'i-1:2', token: 'dead', claimedAt: Date.now() });
      await assert.rejects(store.updateInstance(record({ variables: { step: 1 } }), 1, []), RevisionConflictError);
      await assert.rejects(store.updateInstance(record({ variables: { step: 1 } }), 1, []), RevisionConflictError);

      await claims.updateOne({ _id: 'i-1:2' }, { $set: { claimedAt: Date.now() - 61_000 } });
      await assert.rejects(store.updateInstance(record({ variables: { step: 1 } }), 1, []), RevisionConflictError);
      await store.updateInstance(record({ variables: { step: 1 } }), 1, []);
      assert.deepEqual(await store.getInstance('i-1'), record({ variables: { step: 1 }, revision: 2 }));
    });

    it('refuses stale and early writers without leaving claims that block the next ones', async () => {
      ({ store } = fresh = await freshDb({ mode: 'ferretdb' }));
      await store.createInstance(record(), []);
      for (const step of [1, 2, 3]) await store.updateInstance(record({ variables: { step } }), step, []);
      // at revision 4 the claims of revisions 2 and 3 are gone: a writer from revision 1 can claim 2
      await assert.rejects(store.updateInstance(record({ variables: { step: 'stale' } }), 1, []), RevisionConflictError);
      // a writer from revision 5 claims 6, which the writer from revision 5 will need
      await assert.rejects(store.updateInstance(record({ variables: { step: 'early' } }), 5, []), RevisionConflictError);
      assert.deepEqual(await store.getInstance('i-1'), record({ variables: { step: 3 }, revision: 4 }));
      await store.updateInstance(record({ variables: { step: 4 } }), 4, []);
      await store.updateInstance(record({ variables: { step: 5 } }), 5, []);
      assert.deepEqual(await store.getInstance('i-1'), record({ variables: { step: 5 }, revision: 6 }));
    });
  });
} else {
  console.log(
    'MongoDB store suite skipped: ferretdb not found. Build FerretDB v1.24.2 as test/helpers/ferretdb.ts describes' +
      ' (or set FERRETDB_BIN), or run against any MongoDB 5+ with MONGODB_URI=mongodb://...',
  );
  describe('store contract: mongodb', () => {
    it('runs against FerretDB or MONGODB_URI (ferretdb not found)');
  });
}
