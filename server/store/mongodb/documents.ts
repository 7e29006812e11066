/**
 * The MongoDB store's documents and how records become documents and back. Records come back
 * exactly as saved: the store's own fields (`_id`, work ids, history batches) never leak into them.
 *
 * An instance is two kinds of document. Its instance document is the compare-and-set target and
 * what every query scans: the revision, the fields the queries filter and sort on, and nothing
 * else, because FerretDB 1.x decodes every document of a collection for any query that is not a
 * lookup by `_id` (measured at 300 instances: ~400 ms a scan with the ~20 KB records inside,
 * ~50 ms without). The record itself, with the store's bookkeeping, is in a state document
 * (states.ts), written under a fresh id before the compare-and-set and never changed; the
 * instance document names the one of its revision.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Binary } from 'mongodb';
import type { HistoryEvent, InstanceRecord, InstanceStatus, ProcessVersion } from '../types.ts';

/** A copy without the given keys; every other field, also one added to a type later, passes. */
function omit<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

/** What the task lists filter and sort an open user task on. */
export interface UserTaskKeys {
  id: string;
  assignee: string | null;
  candidateUsers: string[];
  candidateGroups: string[];
  createdAt: string;
}

/** What the job queue filters and sorts a job on. */
export interface JobKeys {
  id: string;
  topic: string;
  /**
   * from when a worker may lock the job: the later of its back-off end (`availableAt`) and its
   * lock's expiry; null while it has an incident (never). ISO timestamps compare as strings.
   */
  offeredAt: string | null;
  createdAt: string;
}

/** The compare-and-set target of an instance and what the queries scan: small on purpose. */
export interface InstanceDoc {
  _id: string;
  revision: number;
  /** the state document holding the record of this revision */
  stateId: string;
  status: InstanceStatus;
  processKey: string;
  businessKey: string | null;
  startedBy: string;
  startedAt: string;
  nextTimerAt: string | null;
  userTasks: UserTaskKeys[];
  jobs: JobKeys[];
  messages: { name: string }[];
}

/** What one revision's state document holds: the record and the store's bookkeeping of the instance. */
export interface InstanceState {
  record: InstanceRecord;
  /** every user task the instance ever held: findInstanceByTask also after the task left the record */
  taskIds: string[];
  /** every job the instance ever held */
  jobIds: string[];
  /** the history batches written so far, in order (see history.ts) */
  historyBatches: string[];
  /** the history events since the last batch, in order */
  events: HistoryEvent[];
}

/**
 * One revision's {@link InstanceState}, written once and never changed: its JSON text deflated
 * (which holds any JSON exactly, `$` and `.` keys, nested arrays, lone surrogates and NUL
 * included, and keeps the collection small: FerretDB 1.x scans a whole table even to find one
 * `_id`, see states.ts).
 */
export interface StateDoc {
  _id: string;
  instanceId: string;
  revision: number;
  data: Binary;
}

/** The job's keys: when it is offered, not whether it is locked now. */
const toJobKeys = (job: InstanceRecord['jobs'][number]): JobKeys => ({
  id: job.id,
  topic: job.topic,
  offeredAt: job.incident ? null : job.lockExpiresAt && job.lockExpiresAt > job.availableAt ? job.lockExpiresAt : job.availableAt,
  createdAt: job.createdAt,
});

/** The instance document of a record at `revision`, whose state is in state document `stateId`. */
export function toInstanceDoc(record: InstanceRecord, revision: number, stateId: string): InstanceDoc {
  return {
    _id: record.id,
    revision,
    stateId,
    status: record.status,
    processKey: record.processKey,
    businessKey: record.businessKey,
    startedBy: record.startedBy,
    startedAt: record.startedAt,
    nextTimerAt: record.nextTimerAt,
    userTasks: record.userTasks.map(({ id, assignee, candidateUsers, candidateGroups, createdAt }) => ({
      id,
      assignee,
      candidateUsers,
      candidateGroups,
      createdAt,
    })),
    jobs: record.jobs.map(toJobKeys),
    messages: record.messages.map(({ name }) => ({ name })),
  };
}

const deflate = promisify(zlib.deflateRaw);
const inflate = promisify(zlib.inflateRaw);

/** JSON text as stored: deflated (off the event loop). */
export const packText = async (text: string): Promise<Binary> => new Binary(await deflate(text));

/** The JSON text of a packed value. */
export const unpackText = async (data: Binary): Promise<string> => (await inflate(data.value())).toString('utf8');

/** A process version; the id `key@version` makes (key, version) unique without a unique index. */
export type VersionDoc = ProcessVersion & { _id: string };

/** The id of a process version's document. */
export const versionId = (key: string, version: number): string => `${key}@${version}`;

/** A process version as stored. */
export const toVersionDoc = (version: ProcessVersion): VersionDoc => ({ _id: versionId(version.key, version.version), ...version });

/** A stored process version, exactly as saved. */
export const fromVersionDoc = (doc: VersionDoc): ProcessVersion => omit(doc, '_id');

/** History events moved out of the state documents: one batch of an instance's events, packed. */
export interface HistoryBatchDoc {
  _id: string;
  instanceId: string;
  data: Binary;
}
