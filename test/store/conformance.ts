/**
 * The store conformance suite: the contract of server/store/types.ts as cases that every store
 * implementation runs in one line (see test/store/sqlite.test.ts). Each case gets a fresh, empty
 * store from the factory. Capability differences are options of the suite, never silent skips.
 */
import assert from 'node:assert/strict';
import { RevisionConflictError } from '../../server/errors.ts';
import type {
  Deployment,
  HistoryEvent,
  InstanceRecord,
  Job,
  Json,
  ProcessVersion,
  Store,
  UserTask,
} from '../../server/store/types.ts';
import { listingOf } from '../../server/store/types.ts';
import { sessionConformance } from './session-conformance.ts';

/** Makes a fresh, empty store; `cleanup` closes it and removes whatever the factory created. */
export type StoreFactory = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

/** What an implementation can do differently; every option has a default that the contract wants. */
export interface StoreConformanceOptions {
  /**
   * Size in bytes (as JSON) of the engine state in the large-state case; default 1,000,000.
   * A store with a smaller document limit lowers it here, visibly, instead of skipping the case.
   */
  largeStateBytes?: number;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** An ISO timestamp `minutes` after a fixed origin; all timestamps of the suite have this format. */
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

function processVersion(key: string, version: number, overrides: Partial<ProcessVersion> = {}): ProcessVersion {
  return {
    key,
    version,
    name: `${key} process`,
    hash: `${key}-${version}-hash`,
    deploymentId: `d-${key}-${version}`,
    deployedAt: at(version),
    xml: `<definitions id="${key}-${version}"><process id="${key}" name="Prüfung ✓" /></definitions>`,
    ...overrides,
  };
}

function deployment(id: string, versions: ProcessVersion[]): Deployment {
  return {
    id,
    name: `${id}.bpmn`,
    deployedAt: versions[0]?.deployedAt ?? at(0),
    deployedBy: 'demo',
    processes: versions.map(({ key, version, name }) => ({ key, version, name })),
  };
}

/** An instance record with the suite's defaults; stores' own tests build theirs with it too. */
export function instance(id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id,
    processKey: 'order',
    processVersion: 1,
    processName: 'Order',
    businessKey: null,
    status: 'running',
    revision: 1,
    variables: {},
    state: null,
    userTasks: [],
    jobs: [],
    timers: [],
    messages: [],
    nextTimerAt: null,
    startedAt: at(0),
    startedBy: 'demo',
    endedAt: null,
    error: null,
    historySeq: 0,
    ...overrides,
  };
}

function userTask(id: string, overrides: Partial<UserTask> = {}): UserTask {
  return {
    id,
    elementId: `Element_${id}`,
    executionId: `Element_${id}_exec`,
    name: `Task ${id}`,
    assignee: null,
    candidateUsers: [],
    candidateGroups: [],
    formFields: [{ id: 'approved', label: 'Approved', type: 'boolean', required: true }],
    createdAt: at(0),
    ...overrides,
  };
}

function job(id: string, overrides: Partial<Job> = {}): Job {
  return {
    id,
    elementId: `Element_${id}`,
    executionId: `Element_${id}_exec`,
    elementName: `Job ${id}`,
    topic: 'payments.charge',
    retries: null,
    availableAt: at(0),
    lockedBy: null,
    lockExpiresAt: null,
    incident: null,
    createdAt: at(0),
    ...overrides,
  };
}

function historyEvent(instanceId: string, seq: number, overrides: Partial<HistoryEvent> = {}): HistoryEvent {
  return { instanceId, seq, at: at(seq), type: `step.${seq}`, ...overrides };
}

/** Engine state with every kind of JSON value the engine and user variables produce. */
const RICH_STATE: Json = {
  name: 'order',
  nested: { deeper: { deepest: [1, [2, [3, { four: 4 }]], []], empty: {} } },
  executions: [
    { id: 'exec-1', status: 'wait', counters: { taken: 1, discarded: 0 } },
    { id: 'exec-2', status: null, stopped: false, entered: true },
  ],
  unicode: [
    'Grüße',
    '日本語',
    'emoji 🚀👩‍👩‍👧',
    'combining é',
    'rtl עברית',
    'quote " backslash \\ tab \t newline \n',
    'nul \u0000 end',
  ],
  numbers: [0, 1, -1, 0.1 + 0.2, -273.15, 1e-7, 6.02214076e23, 1.7976931348623157e308],
  safeIntegers: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 40],
  booleans: [true, false],
  nulls: [null, { value: null }],
  dates: { startedAt: '2030-01-01T00:00:00.000Z', due: '2030-02-28T23:59:59.999+01:00', day: '2030-03-01' },
  strings: ['', ' ', '0', 'false', 'null', '{"not":"parsed"}'],
};

/** Engine state of just under `bytes` bytes as JSON. */
function largeState(bytes: number): Json {
  const executions: Json[] = [];
  let size = Buffer.byteLength('{"executions":[]}');
  for (let i = 0; ; i++) {
    const entry: Json = {
      id: `execution-${i}`,
      elementId: `Activity_${i % 97}`,
      counters: { taken: i, discarded: 0 - i, ratio: i / 7 },
      content: { text: `Schritt ${i} – ${'abcdefghij'.repeat(8)} ✓`, flag: i % 2 === 0, none: null },
    };
    const entryBytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (size + entryBytes > bytes) break;
    executions.push(entry);
    size += entryBytes;
  }
  return { executions };
}

/** Defines the contract cases for one store implementation. */
export function storeConformance(name: string, factory: StoreFactory, options: StoreConformanceOptions = {}): void {
  const largeStateBytes = options.largeStateBytes ?? 1_000_000;

  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Creates instances in the given order, each with revision 1 and no history. */
    const create = async (...records: InstanceRecord[]): Promise<void> => {
      for (const record of records) await store.createInstance(record, []);
    };

    /** Loads an instance, changes it and saves it at its current revision; returns what was saved. */
    const change = async (
      id: string,
      edit: (record: InstanceRecord) => void,
      events: HistoryEvent[] = [],
    ): Promise<InstanceRecord> => {
      const record = await store.getInstance(id);
      assert.ok(record, `instance ${id} exists`);
      const expected = record.revision;
      edit(record);
      await store.updateInstance(record, expected, events);
      return { ...record, revision: expected + 1 };
    };

    const ids = (records: { id: string }[]): string[] => records.map((record) => record.id);
    const sortedIds = (records: { id: string }[]): string[] => ids(records).sort();

    describe('deployments and process versions', () => {
      const order1 = processVersion('order', 1, { name: 'Alpha order' });
      const order2 = processVersion('order', 2, { name: 'Alpha order, revised', deploymentId: 'd-2' });
      const approval1 = processVersion('approval', 1, { name: 'Zeta approval' });

      beforeEach(async () => {
        await store.saveDeployment(deployment('d-1', [order1, approval1]), [order1, approval1]);
        await store.saveDeployment(deployment('d-2', [order2]), [order2]);
      });

      it('returns the newest version of a process', async () => {
        assert.deepEqual(await store.latestVersion('order'), order2);
        assert.deepEqual(await store.latestVersion('approval'), approval1);
      });

      it('returns null as the newest version of an unknown process', async () => {
        assert.equal(await store.latestVersion('unknown'), null);
      });

      it('returns one version exactly as saved, and null for an unknown version', async () => {
        assert.deepEqual(await store.getVersion('order', 1), order1);
        assert.deepEqual(await store.getVersion('order', 2), order2);
        assert.equal(await store.getVersion('order', 3), null);
        assert.equal(await store.getVersion('unknown', 1), null);
      });

      it('lists all versions with keys in alphabetical order of the key and the newest version first', async () => {
        // the process names sort the other way round: the order is by key, not by process name
        assert.deepEqual(await store.listVersions(), [approval1, order2, order1]);
      });

      it('lists the versions of one key newest first, and none of an unknown key', async () => {
        assert.deepEqual(await store.listVersions('order'), [order2, order1]);
        assert.deepEqual(await store.listVersions('unknown'), []);
      });

      it('keeps whether a version was deployed for viewing only', async () => {
        const viewed = processVersion('invoice', 1, { deploymentId: 'd-3', viewOnly: true });
        await store.saveDeployment(deployment('d-3', [viewed]), [viewed]);
        assert.deepEqual(await store.getVersion('invoice', 1), viewed);
        assert.deepEqual(await store.latestVersion('invoice'), viewed);
        assert.equal((await store.getVersion('order', 2))?.viewOnly, undefined);
      });

      it('saves a deployment without new versions (an identical upload)', async () => {
        await store.saveDeployment(deployment('d-3', []), []);
        assert.deepEqual(await store.listVersions(), [approval1, order2, order1]);
      });

      it('rejects a deployment with an existing (key, version) and writes nothing of it', async () => {
        const invoice1 = processVersion('invoice', 1, { deploymentId: 'd-3' });
        const duplicate = processVersion('order', 2, { deploymentId: 'd-3', hash: 'other' });
        await assert.rejects(store.saveDeployment(deployment('d-3', [invoice1, duplicate]), [invoice1, duplicate]));

        assert.equal(await store.getVersion('invoice', 1), null);
        assert.deepEqual(await store.getVersion('order', 2), order2);
        assert.deepEqual(await store.listVersions(), [approval1, order2, order1]);
        // nothing of the deployment itself was kept either: the corrected upload under the same id saves
        await store.saveDeployment(deployment('d-3', [invoice1]), [invoice1]);
        assert.deepEqual(await store.latestVersion('invoice'), invoice1);
      });
    });

    describe('instance records', () => {
      it('returns a created instance equal to what was saved, at revision 1', async () => {
        const record = instance('i-1', {
          businessKey: 'B-1',
          variables: { amount: 10.5, customer: { name: 'Zoë', vip: true } },
          state: RICH_STATE,
          userTasks: [userTask('t-1', { assignee: 'mary', candidateGroups: ['sales'] })],
          jobs: [job('j-1', { retries: 2, incident: { message: 'card declined', at: at(3) } })],
          timers: [{ elementId: 'Timer', executionId: 'Timer_exec', dueAt: at(60) }],
          messages: [{ name: 'paid', elementId: 'Paid', executionId: 'Paid_exec' }],
          nextTimerAt: at(60),
          historySeq: 2,
        });
        await store.createInstance(record, [historyEvent('i-1', 1), historyEvent('i-1', 2)]);
        assert.deepEqual(await store.getInstance('i-1'), record);
      });

      it('stores a new instance at revision 1 whatever revision the record carries', async () => {
        await store.createInstance(instance('i-1', { revision: 7 }), []);
        assert.equal((await store.getInstance('i-1'))?.revision, 1);
      });

      it('returns null for an unknown instance', async () => {
        assert.equal(await store.getInstance('unknown'), null);
      });

      it('keeps its own copy: changing the saved object or a loaded one changes nothing stored', async () => {
        const record = instance('i-1', { variables: { amount: 1 } });
        await store.createInstance(record, []);
        record.variables.amount = 2;
        record.status = 'failed';
        const loaded = await store.getInstance('i-1');
        assert.ok(loaded);
        assert.deepEqual(loaded.variables, { amount: 1 });
        loaded.variables.amount = 3;
        assert.deepEqual((await store.getInstance('i-1'))?.variables, { amount: 1 });
        assert.equal((await store.getInstance('i-1'))?.status, 'running');
      });

      it('rejects a second instance with an existing id and keeps the first one and its history', async () => {
        const first = instance('i-1', { processName: 'First', historySeq: 1 });
        await store.createInstance(first, [historyEvent('i-1', 1)]);
        await assert.rejects(
          store.createInstance(instance('i-1', { processName: 'Second', historySeq: 1 }), [
            historyEvent('i-1', 1, { type: 'second' }),
          ]),
        );
        assert.deepEqual(await store.getInstance('i-1'), first);
        assert.deepEqual(await store.history('i-1'), [historyEvent('i-1', 1)]);
      });
    });

    describe('compare-and-set on the revision', () => {
      beforeEach(async () => {
        await store.createInstance(instance('i-1', { variables: { step: 0 }, historySeq: 1 }), [historyEvent('i-1', 1)]);
      });

      it('replaces the record at the expected revision and stores it at the next revision', async () => {
        const next = instance('i-1', {
          variables: { step: 1 },
          state: { waiting: 'Approve' },
          userTasks: [userTask('t-1')],
          historySeq: 2,
        });
        await store.updateInstance(next, 1, [historyEvent('i-1', 2)]);
        assert.deepEqual(await store.getInstance('i-1'), { ...next, revision: 2 });

        await store.updateInstance({ ...next, variables: { step: 2 } }, 2, []);
        assert.deepEqual(await store.getInstance('i-1'), { ...next, variables: { step: 2 }, revision: 3 });
      });

      it('stores expectedRevision + 1 whatever revision the record carries', async () => {
        await store.updateInstance(instance('i-1', { revision: 99 }), 1, []);
        assert.equal((await store.getInstance('i-1'))?.revision, 2);
      });

      it('throws RevisionConflictError on a stale revision and writes nothing: record, history or indexes', async () => {
        const current = await change('i-1', (record) => {
          record.variables = { step: 1 };
          record.historySeq = 2;
        }, [historyEvent('i-1', 2)]);

        const stale = instance('i-1', {
          variables: { step: 'stale' },
          userTasks: [userTask('t-stale', { assignee: 'mary' })],
          jobs: [job('j-stale')],
          messages: [{ name: 'paid', elementId: 'Paid', executionId: 'Paid_exec' }],
          nextTimerAt: at(-10),
          historySeq: 3,
        });
        await assert.rejects(store.updateInstance(stale, 1, [historyEvent('i-1', 3)]), RevisionConflictError);

        assert.deepEqual(await store.getInstance('i-1'), current);
        assert.deepEqual(await store.history('i-1'), [historyEvent('i-1', 1), historyEvent('i-1', 2)]);
        assert.deepEqual((await store.findTasks({ offset: 0, limit: 10 })).items, []);
        assert.equal(await store.findInstanceByTask('t-stale'), null);
        assert.equal(await store.findInstanceByJob('j-stale'), null);
        assert.deepEqual(await store.findLockableJobs(['payments.charge'], at(100), 10), []);
        assert.deepEqual(await store.findMessageSubscribers('paid'), []);
        assert.deepEqual(await store.findDueInstances(at(100), 10), []);
      });

      it('throws RevisionConflictError on a revision ahead of the stored one', async () => {
        await assert.rejects(store.updateInstance(instance('i-1', { variables: { step: 9 } }), 5, []), RevisionConflictError);
        assert.equal((await store.getInstance('i-1'))?.revision, 1);
      });

      it('never creates an instance by updating an unknown one', async () => {
        await assert.rejects(store.updateInstance(instance('unknown'), 1, [historyEvent('unknown', 1)]));
        assert.equal(await store.getInstance('unknown'), null);
        assert.deepEqual(await store.history('unknown'), []);
      });

      it('lets exactly one of many concurrent writers from the same revision win', async () => {
        const writers = 8;
        const results = await Promise.allSettled(
          Array.from({ length: writers }, (_, writer) =>
            store.updateInstance(
              instance('i-1', { variables: { writer }, historySeq: 2 }),
              1,
              [historyEvent('i-1', 2, { data: { writer } })],
            ),
          ),
        );

        const won = results.flatMap((result, writer) => (result.status === 'fulfilled' ? [writer] : []));
        assert.equal(won.length, 1, `exactly one writer wins, not ${won.length}`);
        for (const result of results) {
          if (result.status === 'rejected') assert.ok(result.reason instanceof RevisionConflictError, String(result.reason));
        }
        const winner = won[0]!;
        const stored = await store.getInstance('i-1');
        assert.equal(stored?.revision, 2);
        assert.deepEqual(stored?.variables, { writer: winner });
        assert.deepEqual(await store.history('i-1'), [historyEvent('i-1', 1), historyEvent('i-1', 2, { data: { writer: winner } })]);
      });
    });

    describe('JSON fidelity of variables and engine state', () => {
      it('round-trips nested values, unicode, numbers, booleans, nulls and date strings unchanged', async () => {
        const record = instance('i-1', { variables: { payload: RICH_STATE, total: -0.5, when: at(1) }, state: RICH_STATE });
        await store.createInstance(record, [historyEvent('i-1', 1, { data: { payload: RICH_STATE } })]);

        const loaded = await store.getInstance('i-1');
        assert.deepEqual(loaded, record);
        assert.equal(typeof loaded?.variables.when, 'string', 'an ISO date stays a string');
        assert.deepEqual((await store.history('i-1'))[0]?.data, { payload: RICH_STATE });

        await store.updateInstance({ ...record, state: { replaced: RICH_STATE } }, 1, []);
        assert.deepEqual((await store.getInstance('i-1'))?.state, { replaced: RICH_STATE });
      });

      it('round-trips the same values through the queries that return records', async () => {
        const record = instance('i-1', {
          businessKey: 'B-1',
          state: RICH_STATE,
          userTasks: [userTask('t-1')],
          jobs: [job('j-1')],
          messages: [{ name: 'paid', elementId: 'Paid', executionId: 'Paid_exec' }],
        });
        await store.createInstance(record, []);
        // lists read the record without its engine state and variables
        assert.deepEqual((await store.findInstances({ offset: 0, limit: 10 })).items, [listingOf(record)]);
        assert.deepEqual(await store.findInstanceByTask('t-1'), record);
        assert.deepEqual(await store.findInstanceByJob('j-1'), record);
        assert.deepEqual(await store.findMessageSubscribers('paid'), [record]);
      });

      it(`round-trips an engine state of about ${largeStateBytes} bytes`, async () => {
        const state = largeState(largeStateBytes);
        const bytes = Buffer.byteLength(JSON.stringify(state));
        assert.ok(bytes > largeStateBytes * 0.9 && bytes <= largeStateBytes, `state is ${bytes} bytes`);

        await store.createInstance(instance('i-1', { state }), []);
        assert.deepEqual((await store.getInstance('i-1'))?.state, state);

        const reversed = { executions: [...(state as { executions: Json[] }).executions].reverse() };
        await store.updateInstance(instance('i-1', { state: reversed }), 1, []);
        assert.deepEqual((await store.getInstance('i-1'))?.state, reversed);
      });
    });

    describe('finding instances', () => {
      // created out of order; newest first is e, d, c, b, a
      const a = instance('a', { processKey: 'order', status: 'running', businessKey: 'B-1', startedBy: 'demo', startedAt: at(1) });
      const b = instance('b', { processKey: 'order', status: 'completed', businessKey: 'B-2', startedBy: 'mary', startedAt: at(2), endedAt: at(6) });
      const c = instance('c', { processKey: 'invoice', status: 'running', businessKey: 'B-1', startedBy: 'mary', startedAt: at(3) });
      const d = instance('d', { processKey: 'order', status: 'running', businessKey: null, startedBy: 'demo', startedAt: at(4) });
      const e = instance('e', { processKey: 'invoice', status: 'failed', businessKey: 'B-3', startedBy: 'demo', startedAt: at(5), error: 'boom' });

      beforeEach(async () => {
        await create(c, a, e, b, d);
      });

      const find = async (query: Partial<Parameters<Store['findInstances']>[0]>) => {
        const page = await store.findInstances({ offset: 0, limit: 100, ...query });
        return { ids: ids(page.items), total: page.total };
      };

      it('returns all instances newest first, as listings (records without state and variables)', async () => {
        const page = await store.findInstances({ offset: 0, limit: 100 });
        assert.deepEqual(page, { items: [e, d, c, b, a].map(listingOf), total: 5 });
      });

      it('filters by status', async () => {
        assert.deepEqual(await find({ status: 'running' }), { ids: ['d', 'c', 'a'], total: 3 });
        assert.deepEqual(await find({ status: 'cancelled' }), { ids: [], total: 0 });
      });

      it('filters by process key', async () => {
        assert.deepEqual(await find({ processKey: 'order' }), { ids: ['d', 'b', 'a'], total: 3 });
      });

      it('filters by business key', async () => {
        assert.deepEqual(await find({ businessKey: 'B-1' }), { ids: ['c', 'a'], total: 2 });
        assert.deepEqual(await find({ businessKey: 'B-9' }), { ids: [], total: 0 });
      });

      it('filters by the user who started the instance', async () => {
        assert.deepEqual(await find({ startedBy: 'mary' }), { ids: ['c', 'b'], total: 2 });
      });

      it('combines filters with AND', async () => {
        assert.deepEqual(await find({ processKey: 'order', status: 'running', startedBy: 'demo' }), { ids: ['d', 'a'], total: 2 });
        assert.deepEqual(await find({ processKey: 'invoice', businessKey: 'B-1' }), { ids: ['c'], total: 1 });
      });

      it('pages with offset and limit and counts the total of all matches', async () => {
        assert.deepEqual(await find({ offset: 1, limit: 2 }), { ids: ['d', 'c'], total: 5 });
        assert.deepEqual(await find({ status: 'running', offset: 2, limit: 2 }), { ids: ['a'], total: 3 });
        assert.deepEqual(await find({ offset: 10, limit: 2 }), { ids: [], total: 5 });
      });

      it('finds an instance by what its latest revision says', async () => {
        await change('a', (record) => {
          record.status = 'completed';
          record.endedAt = at(9);
        });
        assert.deepEqual(await find({ status: 'running' }), { ids: ['d', 'c'], total: 2 });
        assert.deepEqual(await find({ status: 'completed' }), { ids: ['b', 'a'], total: 2 });
        const { items } = await store.findInstances({ status: 'completed', offset: 1, limit: 1 });
        assert.deepEqual(items, [listingOf((await store.getInstance('a')) as InstanceRecord)]);
      });

      it('finds an instance by a business key set in a later revision', async () => {
        await change('d', (record) => {
          record.businessKey = 'B-4';
        });
        assert.deepEqual(await find({ businessKey: 'B-4' }), { ids: ['d'], total: 1 });
        assert.deepEqual(await find({ businessKey: 'B-1' }), { ids: ['c', 'a'], total: 2 });
      });

      it('reads the current revisions of many instances at once, leaving out unknown ids', async () => {
        await change('a', (record) => {
          record.status = 'completed';
        });
        assert.deepEqual(await store.instanceRevisions(['a', 'c', 'unknown']), new Map([['a', 2], ['c', 1]]));
        assert.deepEqual(await store.instanceRevisions([]), new Map());
      });
    });

    describe('finding user tasks', () => {
      const t1 = userTask('t1', { assignee: 'mary', candidateGroups: ['sales'], createdAt: at(1) });
      const t2 = userTask('t2', { candidateGroups: ['sales', 'hr'], candidateUsers: ['john'], createdAt: at(3) });
      const t3 = userTask('t3', { candidateGroups: ['hr'], createdAt: at(2) });
      const t4 = userTask('t4', { assignee: 'john', createdAt: at(4) });
      const i1 = instance('i1', { processKey: 'order', businessKey: 'B-1', userTasks: [t1, t2] });
      const i2 = instance('i2', { processKey: 'invoice', userTasks: [t3, t4], startedAt: at(1) });
      const done = instance('done', {
        status: 'completed',
        userTasks: [userTask('t0', { assignee: 'mary', candidateGroups: ['sales', 'hr'], candidateUsers: ['john'], createdAt: at(0) })],
      });

      beforeEach(async () => {
        await create(i1, done, i2);
      });

      const find = async (query: Partial<Parameters<Store['findTasks']>[0]>) => {
        const page = await store.findTasks({ offset: 0, limit: 100, ...query });
        return { ids: ids(page.items), total: page.total };
      };

      it('returns the open tasks of running instances oldest first, with their instance', async () => {
        const page = await store.findTasks({ offset: 0, limit: 100 });
        const view = (task: UserTask, record: InstanceRecord) => ({
          ...task,
          instanceId: record.id,
          processKey: record.processKey,
          businessKey: record.businessKey,
        });
        assert.deepEqual(page, { items: [view(t1, i1), view(t3, i2), view(t2, i1), view(t4, i2)], total: 4 });
      });

      it('filters by assignee', async () => {
        assert.deepEqual(await find({ assignee: 'mary' }), { ids: ['t1'], total: 1 });
        assert.deepEqual(await find({ assignee: 'nobody' }), { ids: [], total: 0 });
      });

      it('filters by candidate groups, matching any of them and listing a task once', async () => {
        assert.deepEqual(await find({ candidateGroups: ['hr'] }), { ids: ['t3', 't2'], total: 2 });
        assert.deepEqual(await find({ candidateGroups: ['sales', 'hr'] }), { ids: ['t1', 't3', 't2'], total: 3 });
        assert.deepEqual(await find({ candidateGroups: ['accounting'] }), { ids: [], total: 0 });
      });

      it('filters by candidate user', async () => {
        assert.deepEqual(await find({ candidateUser: 'john' }), { ids: ['t2'], total: 1 });
      });

      it('matches assignee, candidate groups and candidate user with OR', async () => {
        assert.deepEqual(await find({ assignee: 'john', candidateGroups: ['sales'] }), { ids: ['t1', 't2', 't4'], total: 3 });
        assert.deepEqual(await find({ assignee: 'john', candidateGroups: ['hr'], candidateUser: 'john' }), {
          ids: ['t3', 't2', 't4'],
          total: 3,
        });
      });

      it('filters by instance, with AND on the other filters', async () => {
        assert.deepEqual(await find({ instanceId: 'i2' }), { ids: ['t3', 't4'], total: 2 });
        assert.deepEqual(await find({ instanceId: 'i2', candidateGroups: ['hr', 'sales'] }), { ids: ['t3'], total: 1 });
        assert.deepEqual(await find({ instanceId: 'i1', assignee: 'john' }), { ids: [], total: 0 });
        assert.deepEqual(await find({ instanceId: 'done' }), { ids: [], total: 0 });
      });

      it('pages with offset and limit and counts the total of all matches', async () => {
        assert.deepEqual(await find({ offset: 1, limit: 2 }), { ids: ['t3', 't2'], total: 4 });
        assert.deepEqual(await find({ candidateGroups: ['sales', 'hr'], offset: 2, limit: 5 }), { ids: ['t2'], total: 3 });
        assert.deepEqual(await find({ offset: 4, limit: 2 }), { ids: [], total: 4 });
      });

      it('follows the latest revision: a claimed task is found by its new assignee', async () => {
        await change('i1', (record) => {
          record.userTasks = [{ ...t2, assignee: 'mary' }, t1];
        });
        assert.deepEqual(await find({ assignee: 'mary' }), { ids: ['t1', 't2'], total: 2 });
        const page = await store.findTasks({ instanceId: 'i1', assignee: 'mary', offset: 1, limit: 1 });
        assert.equal(page.items[0]?.assignee, 'mary');
      });

      it('drops a task the instance record no longer lists', async () => {
        await change('i1', (record) => {
          record.userTasks = [t2];
        });
        assert.deepEqual(await find({}), { ids: ['t3', 't2', 't4'], total: 3 });
        assert.deepEqual(await find({ assignee: 'mary' }), { ids: [], total: 0 });
      });

      it('drops all tasks of an instance that is no longer running, even if still listed', async () => {
        await change('i2', (record) => {
          record.status = 'cancelled';
          record.endedAt = at(9);
        });
        assert.deepEqual(await find({}), { ids: ['t1', 't2'], total: 2 });
        assert.deepEqual(await find({ candidateGroups: ['hr'] }), { ids: ['t2'], total: 1 });
      });
    });

    describe('finding the instance of a task or job', () => {
      beforeEach(async () => {
        await create(
          instance('i1', { userTasks: [userTask('t1')], jobs: [job('j1')] }),
          instance('i2', { userTasks: [userTask('t2')], jobs: [job('j2')] }),
        );
      });

      it('returns the latest revision of the instance that holds the task or job', async () => {
        const saved = await change('i1', (record) => {
          record.variables = { seen: true };
        });
        assert.deepEqual(await store.findInstanceByTask('t1'), saved);
        assert.deepEqual(await store.findInstanceByJob('j1'), saved);
        assert.equal((await store.findInstanceByTask('t2'))?.id, 'i2');
        assert.equal((await store.findInstanceByJob('j2'))?.id, 'i2');
      });

      it('returns null for an unknown task or job', async () => {
        assert.equal(await store.findInstanceByTask('unknown'), null);
        assert.equal(await store.findInstanceByJob('unknown'), null);
      });

      it('still returns the instance after the task or job was removed from the record', async () => {
        const saved = await change('i1', (record) => {
          record.userTasks = [];
          record.jobs = [];
        });
        assert.deepEqual(await store.findInstanceByTask('t1'), saved);
        assert.deepEqual(await store.findInstanceByJob('j1'), saved);
      });

      it('still returns the instance after it ended', async () => {
        const saved = await change('i1', (record) => {
          record.status = 'completed';
          record.endedAt = at(9);
        });
        assert.deepEqual(await store.findInstanceByTask('t1'), saved);
        assert.deepEqual(await store.findInstanceByJob('j1'), saved);
      });

      it('finds a task or job added in a later revision', async () => {
        const saved = await change('i2', (record) => {
          record.userTasks.push(userTask('t3'));
          record.jobs.push(job('j3'));
        });
        assert.deepEqual(await store.findInstanceByTask('t3'), saved);
        assert.deepEqual(await store.findInstanceByJob('j3'), saved);
      });

      // BUG: the SQLite store registers task and job ids (work_owners) only while the record is
      // running (writeIndexes returns before the loops), so a task or job first listed by a record
      // saved as failed, completed or cancelled is never found, although that record holds it.
      // Latent today: the runner lists no user tasks or jobs once a run has ended.
      it('finds a task or job first listed in a record that is no longer running', async () => {
        const saved = await change('i2', (record) => {
          record.status = 'failed';
          record.error = 'boom';
          record.userTasks.push(userTask('t3'));
          record.jobs.push(job('j3'));
        });
        assert.deepEqual(await store.findInstanceByTask('t3'), saved);
        assert.deepEqual(await store.findInstanceByJob('j3'), saved);
        await create(instance('i3', { status: 'failed', userTasks: [userTask('t4')], jobs: [job('j4')] }));
        assert.equal((await store.findInstanceByTask('t4'))?.id, 'i3');
        assert.equal((await store.findInstanceByJob('j4'))?.id, 'i3');
      });
    });

    describe('finding lockable jobs', () => {
      const NOW = at(10);
      beforeEach(async () => {
        await create(
          instance('i1', {
            jobs: [
              job('j1', { topic: 'pay', createdAt: at(1) }),
              job('j2', { topic: 'pay', createdAt: at(2), lockedBy: 'worker-a', lockExpiresAt: at(20) }),
              job('j3', { topic: 'pay', createdAt: at(3), lockedBy: 'worker-a', lockExpiresAt: at(5), retries: 2 }),
              job('j4', { topic: 'pay', createdAt: at(4), availableAt: at(15), retries: 1 }),
              job('j5', { topic: 'pay', createdAt: at(5), retries: 0, incident: { message: 'declined', at: at(6) } }),
              job('j6', { topic: 'ship', createdAt: at(0.5) }),
            ],
          }),
          instance('i2', { jobs: [job('j7', { topic: 'pay', createdAt: at(1.5) })] }),
          instance('ended', { status: 'completed', jobs: [job('j8', { topic: 'pay', createdAt: at(0) })] }),
        );
      });

      const lockable = (topics: string[], now = NOW, limit = 100) => store.findLockableJobs(topics, now, limit);

      it('returns unlocked, expired-lock jobs of running instances, oldest first', async () => {
        assert.deepEqual(await lockable(['pay']), [
          { instanceId: 'i1', jobId: 'j1' },
          { instanceId: 'i2', jobId: 'j7' },
          { instanceId: 'i1', jobId: 'j3' },
        ]);
      });

      it('returns jobs of any of the topics and none of others', async () => {
        assert.deepEqual((await lockable(['pay', 'ship'])).map((c) => c.jobId), ['j6', 'j1', 'j7', 'j3']);
        assert.deepEqual(await lockable(['ship']), [{ instanceId: 'i1', jobId: 'j6' }]);
        assert.deepEqual(await lockable(['unknown']), []);
        assert.deepEqual(await lockable([]), []);
      });

      it('returns at most limit jobs', async () => {
        assert.deepEqual((await lockable(['pay', 'ship'], NOW, 2)).map((c) => c.jobId), ['j6', 'j1']);
      });

      it('offers a job from its availableAt on and no longer holds a lock from its lockExpiresAt on', async () => {
        assert.deepEqual((await lockable(['pay'], at(15))).map((c) => c.jobId), ['j1', 'j7', 'j3', 'j4']);
        assert.deepEqual((await lockable(['pay'], at(20))).map((c) => c.jobId), ['j1', 'j7', 'j2', 'j3', 'j4']);
        assert.deepEqual((await lockable(['pay'], at(4))).map((c) => c.jobId), ['j1', 'j7']);
      });

      it('follows the latest revision: locking, unlocking, resolving an incident and removing jobs', async () => {
        await change('i1', (record) => {
          record.jobs = record.jobs
            .filter((j) => j.id !== 'j3')
            .map((j) => {
              if (j.id === 'j1') return { ...j, lockedBy: 'worker-b', lockExpiresAt: at(12) };
              if (j.id === 'j2') return { ...j, lockedBy: null, lockExpiresAt: null };
              if (j.id === 'j5') return { ...j, retries: 3, incident: null };
              return j;
            });
        });
        assert.deepEqual((await lockable(['pay'])).map((c) => c.jobId), ['j7', 'j2', 'j5']);
        assert.deepEqual((await lockable(['pay'], at(12))).map((c) => c.jobId), ['j1', 'j7', 'j2', 'j5']);
      });

      it('offers no jobs of an instance that is no longer running, even if still listed', async () => {
        await change('i1', (record) => {
          record.status = 'cancelled';
          record.endedAt = at(9);
        });
        assert.deepEqual(await lockable(['pay', 'ship'], at(100)), [{ instanceId: 'i2', jobId: 'j7' }]);
      });
    });

    describe('finding instances with a due timer', () => {
      const NOW = at(10);
      beforeEach(async () => {
        await create(
          instance('a', { nextTimerAt: at(5) }),
          instance('b', { nextTimerAt: NOW }),
          instance('c', { nextTimerAt: at(11) }),
          instance('d', { status: 'completed', nextTimerAt: at(1) }),
          instance('e', { nextTimerAt: null }),
          instance('f', { nextTimerAt: at(2) }),
        );
      });

      it('returns running instances with nextTimerAt at or before now, earliest first', async () => {
        assert.deepEqual(await store.findDueInstances(NOW, 100), ['f', 'a', 'b']);
        assert.deepEqual(await store.findDueInstances(at(0), 100), []);
      });

      it('returns at most limit ids', async () => {
        assert.deepEqual(await store.findDueInstances(NOW, 2), ['f', 'a']);
      });

      it('follows the latest revision of nextTimerAt and status', async () => {
        await change('f', (record) => {
          record.status = 'completed';
          record.endedAt = at(9);
        });
        await change('a', (record) => {
          record.nextTimerAt = at(20);
        });
        await change('e', (record) => {
          record.nextTimerAt = at(3);
        });
        assert.deepEqual(await store.findDueInstances(NOW, 100), ['e', 'b']);
        assert.deepEqual(await store.findDueInstances(at(30), 100), ['e', 'b', 'c', 'a']);
      });
    });

    describe('finding message subscribers', () => {
      const paid = (executionId: string) => ({ name: 'paid', elementId: 'Paid', executionId });
      beforeEach(async () => {
        await create(
          instance('a', { businessKey: 'B-1', messages: [paid('a1')] }),
          instance('b', { businessKey: 'B-2', messages: [paid('b1'), { name: 'cancelled', elementId: 'Cancel', executionId: 'b2' }] }),
          instance('c', { businessKey: null, messages: [paid('c1')] }),
          instance('d', { businessKey: 'B-1', status: 'completed', messages: [paid('d1')] }),
          instance('e', { businessKey: 'B-1', messages: [paid('e1'), paid('e2')] }),
          instance('f', { businessKey: 'B-1' }),
        );
      });

      it('returns each running instance waiting for a message of the name once, as a full record', async () => {
        const found = await store.findMessageSubscribers('paid');
        assert.deepEqual(sortedIds(found), ['a', 'b', 'c', 'e']);
        assert.deepEqual(
          found.find((record) => record.id === 'e'),
          await store.getInstance('e'),
        );
        assert.deepEqual(ids(await store.findMessageSubscribers('cancelled')), ['b']);
        assert.deepEqual(await store.findMessageSubscribers('unknown'), []);
      });

      it('narrows to a business key when one is given', async () => {
        assert.deepEqual(sortedIds(await store.findMessageSubscribers('paid', 'B-1')), ['a', 'e']);
        assert.deepEqual(await store.findMessageSubscribers('cancelled', 'B-1'), []);
        assert.deepEqual(await store.findMessageSubscribers('paid', 'B-9'), []);
      });

      it('follows the latest revision: removed subscriptions and ended instances drop out', async () => {
        await change('a', (record) => {
          record.messages = [];
        });
        await change('e', (record) => {
          record.status = 'failed';
          record.error = 'boom';
        });
        await change('f', (record) => {
          record.messages = [paid('f1')];
        });
        assert.deepEqual(sortedIds(await store.findMessageSubscribers('paid')), ['b', 'c', 'f']);
        assert.deepEqual(sortedIds(await store.findMessageSubscribers('paid', 'B-1')), ['f']);
      });
    });

    describe('history', () => {
      it('returns the events of createInstance and updateInstance in seq order', async () => {
        const started = historyEvent('i-1', 1, { type: 'instance.started', user: 'demo', data: { variables: { amount: 10 } } });
        const entered = historyEvent('i-1', 2, {
          type: 'activity.start',
          elementId: 'Approve',
          elementName: 'Approve',
          elementType: 'bpmn:UserTask',
          executionId: 'Approve_1',
        });
        await store.createInstance(instance('i-1', { historySeq: 2 }), [started, entered]);
        await store.createInstance(instance('i-2', { historySeq: 1 }), [historyEvent('i-2', 1)]);
        const completed = historyEvent('i-1', 3, { type: 'task.completed', user: 'mary', data: { approved: true } });
        await store.updateInstance(instance('i-1', { historySeq: 3 }), 1, [completed]);
        await store.updateInstance(instance('i-2', { historySeq: 2 }), 1, [historyEvent('i-2', 2)]);
        await store.updateInstance(instance('i-1', { historySeq: 3 }), 2, []);
        const ended = [4, 5, 6].map((seq) => historyEvent('i-1', seq));
        await store.updateInstance(instance('i-1', { historySeq: 6 }), 3, ended);

        assert.deepEqual(await store.history('i-1'), [started, entered, completed, ...ended]);
        assert.deepEqual(await store.history('i-2'), [historyEvent('i-2', 1), historyEvent('i-2', 2)]);
      });

      it('returns no events for an unknown instance', async () => {
        assert.deepEqual(await store.history('unknown'), []);
      });
    });

    sessionConformance(() => store);
  });
}
