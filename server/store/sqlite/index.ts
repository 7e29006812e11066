import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, RevisionConflictError } from '../../errors.ts';
import type {
  Deployment,
  HistoryEvent,
  InstanceQuery,
  InstanceListing,
  InstanceRecord,
  JobCandidate,
  Page,
  ProcessVersion,
  Store,
  TaskQuery,
  TaskView,
} from '../types.ts';
import { SCHEMA } from './schema.ts';
import { sqliteSessions } from './sessions.ts';

interface VersionRow {
  key: string;
  version: number;
  name: string;
  hash: string;
  deployment_id: string;
  deployed_at: string;
  xml: string;
  view_only: number;
}

const toVersion = (row: VersionRow): ProcessVersion => ({
  key: row.key,
  version: row.version,
  name: row.name,
  hash: row.hash,
  deploymentId: row.deployment_id,
  deployedAt: row.deployed_at,
  xml: row.xml,
  ...(row.view_only ? { viewOnly: true } : {}),
});

/**
 * The embedded store: SQLite through better-sqlite3, in `dataDir/baton.db`. WAL journal with
 * full sync, so a committed change survives kill -9 and power loss. Needs no server.
 */
export function createSqliteStore(dataDir: string): Store {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'baton.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  // databases made before view-only deployments lack the column
  const versionColumns = db.prepare('PRAGMA table_info(process_versions)').all() as { name: string }[];
  if (!versionColumns.some((column) => column.name === 'view_only')) db.exec('ALTER TABLE process_versions ADD COLUMN view_only INTEGER NOT NULL DEFAULT 0');

  const q = {
    insertDeployment: db.prepare('INSERT INTO deployments (id, deployed_at, doc) VALUES (?, ?, ?)'),
    insertVersion: db.prepare(
      `INSERT INTO process_versions (key, version, name, hash, deployment_id, deployed_at, xml, view_only)
       VALUES (@key, @version, @name, @hash, @deploymentId, @deployedAt, @xml, @viewOnly)`,
    ),
    latestVersion: db.prepare('SELECT * FROM process_versions WHERE key = ? ORDER BY version DESC LIMIT 1'),
    getVersion: db.prepare('SELECT * FROM process_versions WHERE key = ? AND version = ?'),
    allVersions: db.prepare('SELECT * FROM process_versions ORDER BY key, version DESC'),
    keyVersions: db.prepare('SELECT * FROM process_versions WHERE key = ? ORDER BY version DESC'),
    insertInstance: db.prepare(
      `INSERT INTO instances (id, process_key, business_key, status, revision, started_at, next_timer_at, doc)
       VALUES (@id, @processKey, @businessKey, @status, @revision, @startedAt, @nextTimerAt, @doc)`,
    ),
    updateInstance: db.prepare(
      `UPDATE instances SET process_key = @processKey, business_key = @businessKey, status = @status, revision = @revision,
         next_timer_at = @nextTimerAt, doc = @doc
       WHERE id = @id AND revision = @expected`,
    ),
    getInstance: db.prepare('SELECT doc FROM instances WHERE id = ?'),
    revisions: db.prepare('SELECT id, revision FROM instances WHERE id IN (SELECT value FROM json_each(?))'),
    deleteTasks: db.prepare('DELETE FROM tasks WHERE instance_id = ?'),
    deleteCandidates: db.prepare(
      'DELETE FROM task_candidates WHERE task_id IN (SELECT id FROM tasks WHERE instance_id = ?)',
    ),
    insertTask: db.prepare('INSERT INTO tasks (id, instance_id, assignee, created_at, doc) VALUES (?, ?, ?, ?, ?)'),
    insertCandidate: db.prepare('INSERT INTO task_candidates (task_id, kind, name) VALUES (?, ?, ?)'),
    deleteJobs: db.prepare('DELETE FROM jobs WHERE instance_id = ?'),
    insertJob: db.prepare(
      `INSERT INTO jobs (id, instance_id, topic, available_at, lock_expires_at, incident, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteSubscriptions: db.prepare('DELETE FROM message_subscriptions WHERE instance_id = ?'),
    insertSubscription: db.prepare(
      'INSERT INTO message_subscriptions (instance_id, name, business_key) VALUES (?, ?, ?)',
    ),
    insertHistory: db.prepare('INSERT INTO history (instance_id, seq, doc) VALUES (?, ?, ?)'),
    history: db.prepare('SELECT doc FROM history WHERE instance_id = ? ORDER BY seq'),
    insertOwner: db.prepare('INSERT OR IGNORE INTO work_owners (id, instance_id) VALUES (?, ?)'),
    instanceByWork: db.prepare('SELECT i.doc FROM work_owners w JOIN instances i ON i.id = w.instance_id WHERE w.id = ?'),
    dueInstances: db.prepare(
      `SELECT id FROM instances WHERE next_timer_at IS NOT NULL AND next_timer_at <= ?
       ORDER BY next_timer_at LIMIT ?`,
    ),
  };

  const parse = (row: unknown): InstanceRecord | null =>
    row ? (JSON.parse((row as { doc: string }).doc) as InstanceRecord) : null;

  /** Rewrites the index rows of one instance from its document. */
  const writeIndexes = (record: InstanceRecord, replace: boolean): void => {
    if (replace) {
      q.deleteCandidates.run(record.id);
      q.deleteTasks.run(record.id);
      q.deleteJobs.run(record.id);
      q.deleteSubscriptions.run(record.id);
    }
    for (const work of [...record.userTasks, ...record.jobs]) q.insertOwner.run(work.id, record.id);
    if (record.status !== 'running') return;
    for (const task of record.userTasks) {
      q.insertTask.run(
        task.id,
        record.id,
        task.assignee,
        task.createdAt,
        JSON.stringify({ ...task, instanceId: record.id, processKey: record.processKey, businessKey: record.businessKey }),
      );
      for (const group of new Set(task.candidateGroups)) q.insertCandidate.run(task.id, 'group', group);
      for (const user of new Set(task.candidateUsers)) q.insertCandidate.run(task.id, 'user', user);
    }
    for (const job of record.jobs) {
      q.insertJob.run(job.id, record.id, job.topic, job.availableAt, job.lockExpiresAt, job.incident ? 1 : 0, job.createdAt);
    }
    for (const sub of record.messages) q.insertSubscription.run(record.id, sub.name, record.businessKey);
  };

  const appendHistory = (events: HistoryEvent[]): void => {
    for (const event of events) q.insertHistory.run(event.instanceId, event.seq, JSON.stringify(event));
  };

  /**
   * Who may work a task, as branches of an OR: the assignee, each candidate group, the candidate
   * user. Each branch is a set of task ids read from an index (`rows`) and a membership test.
   */
  interface WhoBranch {
    value: string;
    rows: string;
    test: (taskId: string) => string;
  }
  const whoMayWork = (query: TaskQuery): WhoBranch[] => {
    const branches: WhoBranch[] = [];
    const candidate = (kind: 'group' | 'user', value: string): WhoBranch => ({
      value,
      rows: `SELECT task_id AS id FROM task_candidates WHERE kind = '${kind}' AND name = ?`,
      test: (taskId) => `EXISTS (SELECT 1 FROM task_candidates WHERE kind = '${kind}' AND name = ? AND task_id = ${taskId})`,
    });
    for (const group of new Set(query.candidateGroups ?? [])) branches.push(candidate('group', group));
    if (query.assignee) {
      branches.push({
        value: query.assignee,
        rows: 'SELECT id FROM tasks WHERE assignee = ?',
        test: (taskId) => `EXISTS (SELECT 1 FROM tasks WHERE assignee = ? AND id = ${taskId})`,
      });
    }
    if (query.candidateUser) branches.push(candidate('user', query.candidateUser));
    return branches;
  };
  /**
   * How many tasks match any branch, without building the union: |B1| + |B2 \ B1| + |B3 \ (B1 ∪ B2)| …,
   * each term counted on an index. A big candidate group costs one index range count, not a sort.
   */
  const countUnion = (branches: WhoBranch[]): number => {
    const terms: string[] = [];
    const params: string[] = [];
    branches.forEach((branch, i) => {
      const earlier = branches.slice(0, i);
      const not = earlier.map((other) => `NOT ${other.test('b.id')}`);
      terms.push(`(SELECT count(*) FROM (${branch.rows}) b${not.length ? ` WHERE ${not.join(' AND ')}` : ''})`);
      params.push(branch.value, ...earlier.map((other) => other.value));
    });
    return (db.prepare(`SELECT ${terms.join(' + ')} AS n`).get(...params) as { n: number }).n;
  };

  type InstanceColumns = ReturnType<typeof instanceColumns>;
  const instanceColumns = (record: InstanceRecord) => ({
    id: record.id,
    processKey: record.processKey,
    businessKey: record.businessKey,
    status: record.status,
    revision: record.revision,
    startedAt: record.startedAt,
    nextTimerAt: record.status === 'running' ? record.nextTimerAt : null,
    doc: JSON.stringify(record),
  });

  const createTx = db.transaction((record: InstanceRecord, columns: InstanceColumns, events: HistoryEvent[]) => {
    q.insertInstance.run(columns);
    writeIndexes(record, false);
    appendHistory(events);
  });

  const updateTx = db.transaction((record: InstanceRecord, columns: InstanceColumns, expected: number, events: HistoryEvent[]) => {
    const result = q.updateInstance.run({ ...columns, expected });
    if (result.changes !== 1) throw new RevisionConflictError(record.id);
    writeIndexes(record, true);
    appendHistory(events);
  });

  /**
   * Group commit: instance writes that arrive while the event loop is busy are committed together
   * in one transaction, so one fsync serves many requests. Each write is a savepoint inside it:
   * a lost compare-and-set undoes only that write. A promise settles only after the commit, so a
   * write is acknowledged only once it is on disk, as before.
   */
  const batch: { write: () => void; resolve: () => void; reject: (err: unknown) => void }[] = [];
  const commitBatch = db.transaction((writes: typeof batch) => writes.map((item) => {
    try {
      item.write();
      return null;
    } catch (err) {
      return err;
    }
  }));
  const flush = (): void => {
    const writes = batch.splice(0);
    let outcomes: unknown[];
    try {
      outcomes = commitBatch(writes);
    } catch (err) {
      for (const item of writes) item.reject(err);
      return;
    }
    writes.forEach((item, i) => (outcomes[i] ? item.reject(outcomes[i]) : item.resolve()));
  };
  const enqueue = (write: () => void): Promise<void> =>
    new Promise((resolve, reject) => {
      if (batch.push({ write, resolve, reject }) === 1) setImmediate(flush);
    });

  const deployTx = db.transaction((deployment: Deployment, versions: ProcessVersion[]) => {
    q.insertDeployment.run(deployment.id, deployment.deployedAt, JSON.stringify(deployment));
    for (const version of versions) q.insertVersion.run({ ...version, viewOnly: version.viewOnly ? 1 : 0 });
  });

  return {
    ...sqliteSessions(db),
    async saveDeployment(deployment, versions) {
      try {
        deployTx(deployment, versions);
      } catch (err) {
        if (String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) {
          throw new ConflictError(`a version of ${versions.map((v) => `${v.key}@${v.version}`).join(', ')} exists already`);
        }
        throw err;
      }
    },
    async latestVersion(key) {
      const row = q.latestVersion.get(key) as VersionRow | undefined;
      return row ? toVersion(row) : null;
    },
    async getVersion(key, version) {
      const row = q.getVersion.get(key, version) as VersionRow | undefined;
      return row ? toVersion(row) : null;
    },
    async listVersions(key) {
      const rows = (key ? q.keyVersions.all(key) : q.allVersions.all()) as VersionRow[];
      return rows.map(toVersion);
    },
    createInstance(record, events) {
      const stored = { ...record, revision: 1 };
      const columns = instanceColumns(stored);
      return enqueue(() => createTx(stored, columns, events));
    },
    async getInstance(id) {
      return parse(q.getInstance.get(id));
    },
    updateInstance(record, expectedRevision, events) {
      const stored = { ...record, revision: expectedRevision + 1 };
      const columns = instanceColumns(stored);
      return enqueue(() => updateTx(stored, columns, expectedRevision, events));
    },
    async findInstances(query: InstanceQuery): Promise<Page<InstanceListing>> {
      const where: string[] = [];
      const params: unknown[] = [];
      const filter = (clause: string, value: unknown): void => {
        where.push(clause);
        params.push(value);
      };
      if (query.status) filter('status = ?', query.status);
      if (query.processKey) filter('process_key = ?', query.processKey);
      if (query.businessKey) filter('business_key = ?', query.businessKey);
      if (query.startedBy) filter("json_extract(doc, '$.startedBy') = ?", query.startedBy);
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = (db.prepare(`SELECT count(*) AS n FROM instances ${clause}`).get(...params) as { n: number }).n;
      // the page's ids come from an index in order; only their documents are read
      const rows = db
        .prepare(
          `SELECT json_remove(doc, '$.state', '$.variables') AS doc FROM instances WHERE id IN
             (SELECT id FROM instances ${clause} ORDER BY started_at DESC, id LIMIT ? OFFSET ?)
           ORDER BY started_at DESC, id`,
        )
        .all(...params, query.limit, query.offset);
      return { items: rows.map((row) => parse(row) as InstanceListing), total };
    },
    async findInstanceByTask(taskId) {
      return parse(q.instanceByWork.get(taskId));
    },
    async findInstanceByJob(jobId) {
      return parse(q.instanceByWork.get(jobId));
    },
    async findMessageSubscribers(name, businessKey) {
      const rows = db
        .prepare(
          `SELECT DISTINCT i.doc FROM message_subscriptions s JOIN instances i ON i.id = s.instance_id
           WHERE s.name = ? ${businessKey === undefined ? '' : 'AND s.business_key = ?'} ORDER BY i.started_at`,
        )
        .all(...(businessKey === undefined ? [name] : [name, businessKey]));
      return rows.map((row) => parse(row) as InstanceRecord);
    },
    async findTasks(query: TaskQuery): Promise<Page<TaskView>> {
      const who = whoMayWork(query);
      const where: string[] = [];
      const params: unknown[] = [];
      if (who.length) {
        where.push(`(${who.map((branch) => branch.test('t.id')).join(' OR ')})`);
        params.push(...who.map((branch) => branch.value));
      }
      if (query.instanceId) {
        where.push('t.instance_id = ?');
        params.push(query.instanceId);
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total =
        who.length && !query.instanceId
          ? countUnion(who)
          : (db.prepare(`SELECT count(*) AS n FROM tasks t ${clause}`).get(...params) as { n: number }).n;
      const rows = db
        .prepare(`SELECT t.doc FROM tasks t ${clause} ORDER BY t.created_at, t.id LIMIT ? OFFSET ?`)
        .all(...params, query.limit, query.offset) as { doc: string }[];
      return { items: rows.map((row) => JSON.parse(row.doc) as TaskView), total };
    },
    async findLockableJobs(topics, now, limit): Promise<JobCandidate[]> {
      if (!topics.length) return [];
      const rows = db
        .prepare(
          `SELECT id, instance_id FROM jobs WHERE topic IN (${topics.map(() => '?').join(', ')})
           AND incident = 0 AND available_at <= ? AND (lock_expires_at IS NULL OR lock_expires_at <= ?)
           ORDER BY created_at, id LIMIT ?`,
        )
        .all(...topics, now, now, limit) as { id: string; instance_id: string }[];
      return rows.map((row) => ({ jobId: row.id, instanceId: row.instance_id }));
    },
    async findDueInstances(now, limit) {
      return (q.dueInstances.all(now, limit) as { id: string }[]).map((row) => row.id);
    },
    async instanceRevisions(ids) {
      const rows = q.revisions.all(JSON.stringify(ids)) as { id: string; revision: number }[];
      return new Map(rows.map((row) => [row.id, row.revision]));
    },
    async history(instanceId) {
      return (q.history.all(instanceId) as { doc: string }[]).map((row) => JSON.parse(row.doc) as HistoryEvent);
    },
    async close() {
      if (batch.length) flush();
      db.close();
    },
  };
}
