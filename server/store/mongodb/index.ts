import { type Collection, type Db, type Document, type Filter, MongoClient } from 'mongodb';
import { ConflictError, RevisionConflictError } from '../../errors.ts';
import { listingOf, type Deployment, type HistoryEvent, type InstanceListing, type InstanceQuery, type InstanceRecord, type Page, type Store, type TaskView } from '../types.ts';
import { type ClaimDoc, createRevisionClaims } from './claims.ts';
import {
  type HistoryBatchDoc,
  type InstanceDoc,
  type InstanceState,
  type StateDoc,
  type VersionDoc,
  fromVersionDoc,
  toInstanceDoc,
  toVersionDoc,
  versionId,
} from './documents.ts';
import { isDuplicateKey } from './errors.ts';
import { createHistoryLog } from './history.ts';
import { findLockableJobs, findTaskHits } from './queries.ts';
import { mongoSessions, type SessionDoc } from './sessions.ts';
import { createStateStore } from './states.ts';

/** How createMongoStore talks to the server; every option has a default. */
export interface MongoStoreOptions {
  /** the database; default: the one named in the URI, else `baton` */
  dbName?: string;
  /**
   * `mongodb`: the compare-and-set is a conditional replace. `ferretdb` (for FerretDB 1.x, whose
   * conditional writes are a read and a later write and which uses no index but `_id`): each
   * revision is claimed first (claims.ts), single documents are found by `_id` only, and a
   * query that pages reads its matches once and pages them here rather than counting first.
   * Default: `ferretdb` when the server reports a FerretDB version.
   */
  mode?: 'mongodb' | 'ferretdb';
  /** how long a revision claim may wait for its write before it counts as abandoned; default 30 s */
  claimTimeoutMs?: number;
  /** how many history events an instance's state holds before a save moves them into a batch; default 100 */
  historyBatchEvents?: number;
}

type DeploymentDoc = Omit<Deployment, 'id'> & { _id: string };

/** Which instance holds or held a user task or job: a hint, checked against the instance's own lists. */
interface WorkOwnerDoc {
  _id: string;
  instanceId: string;
}

interface Collections {
  deployments: Collection<DeploymentDoc>;
  versions: Collection<VersionDoc>;
  instances: Collection<InstanceDoc>;
  states: Collection<StateDoc>;
  history: Collection<HistoryBatchDoc>;
  owners: Collection<WorkOwnerDoc>;
  claims: Collection<ClaimDoc>;
  sessions: Collection<SessionDoc>;
}

/**
 * The indexes of the store's queries; the multikey ones on the embedded tasks, jobs and
 * subscriptions serve the task lists, the job queue and message correlation. Created one by one:
 * FerretDB 1.x drops the connection when one createIndexes command repeats several existing ones.
 */
const INDEXES: { [K in keyof Collections]?: Document[] } = {
  versions: [{ key: 1, version: -1 }],
  instances: [
    { startedAt: -1, _id: 1 },
    { status: 1, startedAt: -1 },
    { processKey: 1, startedAt: -1 },
    { businessKey: 1, startedAt: -1 },
    { startedBy: 1, startedAt: -1 },
    { status: 1, nextTimerAt: 1 },
    { status: 1, 'userTasks.assignee': 1 },
    { status: 1, 'userTasks.candidateGroups': 1 },
    { status: 1, 'userTasks.candidateUsers': 1 },
    { status: 1, 'jobs.topic': 1, 'jobs.offeredAt': 1 },
    { status: 1, 'messages.name': 1 },
  ],
  sessions: [{ user: 1 }, { expiresAt: 1 }],
};

/** The database named in the path of a mongodb:// or mongodb+srv:// URI, if any. */
function databaseInUri(uri: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(uri)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

async function serverMode(db: Db): Promise<'mongodb' | 'ferretdb'> {
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb';
}

/** The ids of both lists, each once, in first-seen order. */
const union = (held: string[], added: string[]): string[] => [...new Set([...held, ...added])];

/**
 * The MongoDB store, for production and for several Baton nodes sharing one database: one
 * instance document per instance, changed only by compare-and-set on its revision, naming an
 * immutable state document with the record (documents.ts); single-document atomicity only (no
 * transactions, no change streams), so that FerretDB 1.x serves as well.
 * Connects, creates the indexes (idempotent) and returns the store.
 */
export async function createMongoStore(uri: string, options: MongoStoreOptions = {}): Promise<Store> {
  const client = new MongoClient(uri, { ignoreUndefined: true });
  await client.connect();
  try {
    const db = client.db(options.dbName ?? databaseInUri(uri) ?? 'baton');
    const c: Collections = {
      deployments: db.collection('deployments'),
      versions: db.collection('process_versions'),
      instances: db.collection('instances'),
      states: db.collection('instance_states'),
      history: db.collection('history'),
      owners: db.collection('work_owners'),
      claims: db.collection('revision_claims'),
      sessions: db.collection('sessions'),
    };
    for (const [name, keys] of Object.entries(INDEXES)) {
      for (const key of keys) await c[name as keyof Collections].createIndex(key);
    }
    const mode = options.mode ?? (await serverMode(db));
    return mongoStore(client, c, {
      ferretDb: mode === 'ferretdb',
      claimTimeoutMs: options.claimTimeoutMs ?? 30_000,
      historyBatchEvents: options.historyBatchEvents ?? 100,
    });
  } catch (err) {
    await client.close();
    throw err;
  }
}

function mongoStore(
  client: MongoClient,
  c: Collections,
  { ferretDb, claimTimeoutMs, historyBatchEvents }: { ferretDb: boolean; claimTimeoutMs: number; historyBatchEvents: number },
): Store {
  const history = createHistoryLog(c.history, ferretDb);
  const states = createStateStore(c.states);
  const storedRevision = async (id: string): Promise<number | null> =>
    (await c.instances.findOne({ _id: id }, { projection: { revision: 1 } }))?.revision ?? null;
  const claims = ferretDb ? createRevisionClaims(c.claims, storedRevision, claimTimeoutMs) : null;
  const NEW: Omit<InstanceState, 'record'> = { taskIds: [], jobIds: [], historyBatches: [], events: [] };

  /** Notes the owner of work ids before the save that lists them (a lost save leaves hints nobody confirms). */
  const addOwners = async (instanceId: string, ids: string[]): Promise<void> => {
    await Promise.all(
      ids.map((_id) =>
        c.owners.insertOne({ _id, instanceId }).catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err;
        }),
      ),
    );
  };

  /**
   * Writes what a save's instance document will name: the new state (with the history so far,
   * moved into a batch once it is long) and the owners of new work. Returns the instance
   * document to write and what to discard if that write fails.
   */
  const writeAhead = async (record: InstanceRecord, revision: number, events: HistoryEvent[], before: Omit<InstanceState, 'record'>) => {
    const state: InstanceState = {
      record: { ...record, revision },
      taskIds: union(before.taskIds, record.userTasks.map((task) => task.id)),
      jobIds: union(before.jobIds, record.jobs.map((job) => job.id)),
      historyBatches: before.historyBatches,
      events: [...before.events, ...events],
    };
    const newWork = [...state.taskIds.slice(before.taskIds.length), ...state.jobIds.slice(before.jobIds.length)];
    const batch = state.events.length >= historyBatchEvents ? await history.append(record.id, state.events) : null;
    if (batch) Object.assign(state, { historyBatches: [...state.historyBatches, batch], events: [] });
    const [owners, written] = await Promise.allSettled([addOwners(record.id, newWork), states.write(record.id, revision, state)]);
    if (owners.status === 'rejected' || written.status === 'rejected') {
      await Promise.all([written.status === 'fulfilled' && states.drop(written.value), batch && history.discard(batch)]);
      throw owners.status === 'rejected' ? owners.reason : (written as PromiseRejectedResult).reason;
    }
    const stateId = written.value;
    return {
      doc: toInstanceDoc(record, revision, stateId),
      discard: () => Promise.all([states.drop(stateId), batch && history.discard(batch)]),
    };
  };

  /** The current state of an instance: its instance document names it. */
  const currentState = async (id: string): Promise<InstanceState | null> => {
    let missing: string | null = null;
    for (;;) {
      const doc = await c.instances.findOne({ _id: id }, { projection: { stateId: 1 } });
      if (!doc) return null;
      const state = await states.read(doc.stateId);
      if (state) return state;
      // the instance moved on and its next save deleted this state meanwhile: read again
      if (doc.stateId === missing) throw new Error(`instance <${id}>: its state <${doc.stateId}> is missing`);
      missing = doc.stateId;
    }
  };

  const getRecord = async (id: string): Promise<InstanceRecord | null> => (await currentState(id))?.record ?? null;

  /** The records of instance documents a query found (the latest ones of instances that moved on meanwhile). */
  const records = async (docs: Pick<InstanceDoc, '_id' | 'stateId'>[]): Promise<InstanceRecord[]> => {
    const found = await Promise.all(docs.map(async (doc) => (await states.read(doc.stateId))?.record ?? getRecord(doc._id)));
    return found.filter((record): record is InstanceRecord => record !== null);
  };

  /** The instance that lists the task or job id among those it ever held. */
  const findByWork = async (id: string, held: 'taskIds' | 'jobIds'): Promise<InstanceRecord | null> => {
    const owner = await c.owners.findOne({ _id: id });
    const state = owner && (await currentState(owner.instanceId));
    return state?.[held].includes(id) ? state.record : null;
  };

  /** Instance documents matching a filter, sorted, as a page and the total (one scan on FerretDB). */
  const page = async (filter: Filter<InstanceDoc>, sort: Document, offset: number, limit: number) => {
    const projection = { stateId: 1 } as const;
    if (ferretDb) {
      const all = await c.instances.find(filter, { projection, sort }).toArray();
      return { docs: limit > 0 ? all.slice(offset, offset + limit) : [], total: all.length };
    }
    const total = await c.instances.countDocuments(filter);
    const docs = limit > 0 && offset < total ? await c.instances.find(filter, { projection, sort, skip: offset, limit }).toArray() : [];
    return { docs, total };
  };

  return {
    ...mongoSessions(c.sessions),
    async saveDeployment(deployment, versions) {
      // no transactions: insert the versions one by one and take back the ones inserted if any fails
      const inserted: string[] = [];
      try {
        for (const version of versions) {
          const doc = toVersionDoc(version);
          await c.versions.insertOne(doc);
          inserted.push(doc._id);
        }
        const { id, ...rest } = deployment;
        await c.deployments.insertOne({ _id: id, ...rest });
      } catch (err) {
        if (inserted.length) await c.versions.deleteMany({ _id: { $in: inserted } });
        if (!isDuplicateKey(err)) throw err;
        throw new ConflictError(
          `deployment <${deployment.id}> or a version of ${versions.map((v) => `${v.key}@${v.version}`).join(', ')} exists already`,
        );
      }
    },

    async latestVersion(key) {
      const doc = await c.versions.findOne({ key }, { sort: { version: -1 } });
      return doc ? fromVersionDoc(doc) : null;
    },

    async getVersion(key, version) {
      const doc = await c.versions.findOne({ _id: versionId(key, version) });
      return doc ? fromVersionDoc(doc) : null;
    },

    async listVersions(key) {
      const docs = await c.versions.find(key === undefined ? {} : { key }, { sort: { key: 1, version: -1 } }).toArray();
      return docs.map(fromVersionDoc);
    },

    async createInstance(record, events) {
      const ahead = await writeAhead(record, 1, events, NEW);
      try {
        await c.instances.insertOne(ahead.doc);
      } catch (err) {
        await ahead.discard();
        if (isDuplicateKey(err)) throw new ConflictError(`instance <${record.id}> exists already`);
        throw err;
      }
    },

    getInstance: getRecord,

    async updateInstance(record, expectedRevision, events) {
      const id = record.id;
      const next = expectedRevision + 1;
      // with claims, read only once the claim is ours: no other writer can move the instance then
      const claim = claims && (await claims.take(id, next));
      if (claims && !claim) throw new RevisionConflictError(id);
      const current = await c.instances.findOne({ _id: id }, { projection: { revision: 1, stateId: 1 } });
      const before = current?.revision === expectedRevision ? await states.read(current.stateId) : null;
      if (!current || !before) {
        // the instance is past `next` (or unknown): nobody needs this claim
        if (claim) await claims?.release(id, next);
        throw new RevisionConflictError(id);
      }

      // state, history and owner hints first: nothing shows them until the instance document names them
      const ahead = await writeAhead(record, next, events, before);
      // a whole replacement, never $set: FerretDB 1.x skips a $set whose new subdocument has
      // other keys but the same values as the old one ({ step: 0 } -> { writer: 0 })
      const saved =
        claims && claim
          ? (await claims.holds(id, next, claim)) && (await c.instances.replaceOne({ _id: id }, ahead.doc)).matchedCount === 1
          : (await c.instances.replaceOne({ _id: id, revision: expectedRevision }, ahead.doc)).matchedCount === 1;
      if (!saved) {
        await ahead.discard();
        throw new RevisionConflictError(id);
      }
      // the claim has done its work (a writer that claims `next` again finds the instance past it);
      // no instance names the previous state any more: a reader that still holds its id reads again
      await Promise.all([claims?.release(id, next), states.drop(current.stateId)]);
    },

    async findInstances(query: InstanceQuery): Promise<Page<InstanceListing>> {
      const filter: Filter<InstanceDoc> = {};
      if (query.status) filter.status = query.status;
      if (query.processKey) filter.processKey = query.processKey;
      if (query.businessKey) filter.businessKey = query.businessKey;
      if (query.startedBy) filter.startedBy = query.startedBy;
      const { docs, total } = await page(filter, { startedAt: -1, _id: 1 }, query.offset, query.limit);
      // states are packed text: each is read whole, one at a time, and only its listing is kept
      const items: InstanceListing[] = [];
      for (const doc of docs) {
        const [record] = await records([doc]);
        if (!record) continue;
        items.push(listingOf(record));
      }
      return { items, total };
    },

    findInstanceByTask: (taskId) => findByWork(taskId, 'taskIds'),

    findInstanceByJob: (jobId) => findByWork(jobId, 'jobIds'),

    async findMessageSubscribers(name, businessKey) {
      const filter: Filter<InstanceDoc> = { status: 'running', 'messages.name': name };
      if (businessKey !== undefined) filter.businessKey = businessKey;
      const docs = await c.instances.find(filter, { projection: { stateId: 1 }, sort: { startedAt: 1, _id: 1 } }).toArray();
      // an instance that moved on meanwhile counts only if it still waits
      return (await records(docs)).filter(
        (record) =>
          record.status === 'running' &&
          record.messages.some((message) => message.name === name) &&
          (businessKey === undefined || record.businessKey === businessKey),
      );
    },

    async findTasks(query) {
      const { hits, total } = await findTaskHits(c.instances, query, ferretDb);
      const holders = new Map<string, Promise<InstanceRecord | null>>();
      for (const { instanceId } of hits) if (!holders.has(instanceId)) holders.set(instanceId, getRecord(instanceId));
      const items: TaskView[] = [];
      for (const { instanceId, taskId } of hits) {
        const record = await holders.get(instanceId);
        // a task that left its instance meanwhile is no longer open
        const task = record?.status === 'running' ? record.userTasks.find((t) => t.id === taskId) : undefined;
        if (record && task) items.push({ ...task, instanceId, processKey: record.processKey, businessKey: record.businessKey });
      }
      return { items, total };
    },

    findLockableJobs: (topics, now, limit) => findLockableJobs(c.instances, topics, now, limit),

    async findDueInstances(now, limit) {
      if (limit <= 0) return [];
      const docs = await c.instances
        .find({ status: 'running', nextTimerAt: { $lte: now } }, { projection: { _id: 1 }, sort: { nextTimerAt: 1, _id: 1 }, limit })
        .toArray();
      return docs.map((doc) => doc._id);
    },

    async instanceRevisions(ids) {
      if (!ids.length) return new Map();
      const docs = await c.instances.find({ _id: { $in: ids } }, { projection: { revision: 1 } }).toArray();
      return new Map(docs.map((doc) => [doc._id, doc.revision]));
    },

    async history(instanceId) {
      const state = await currentState(instanceId);
      if (!state) return [];
      return [...(await history.read(state.historyBatches)), ...state.events].sort((a, b) => a.seq - b.seq);
    },

    async close() {
      await client.close();
    },
  };
}
