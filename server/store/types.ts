/**
 * The store contract: what Baton needs from a database, and nothing more. Every implementation
 * (server/store/sqlite, later MongoDB) passes the shared conformance suite in test/store.
 *
 * One instance is one record. Every change to it is a compare-and-set on its revision, so two
 * requests or two server nodes can never both advance an instance.
 */

/** JSON values as stored: what variables and engine state are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Variables = Record<string, Json>;

/** A field of a start or user task form (Camunda's formData). */
export interface FormField {
  id: string;
  label: string;
  type: 'string' | 'long' | 'boolean' | 'date' | 'enum';
  required: boolean;
  defaultValue?: Json;
  /** allowed values of an enum field: id and display name */
  values?: { id: string; name: string }[];
  /** validation constraints other than required: min, max, minlength, maxlength, readonly */
  constraints?: Record<string, string | number | true>;
}

/** A deployed version of a process. */
export interface ProcessVersion {
  key: string;
  version: number;
  name: string;
  /** sha-256 of the BPMN XML: an identical upload keeps the version */
  hash: string;
  deploymentId: string;
  deployedAt: string;
  xml: string;
  /** deployed with view-only: stored for viewing, never started (absent when false) */
  viewOnly?: boolean;
}

/** A deployment: one upload of one or more BPMN files. */
export interface Deployment {
  id: string;
  name: string;
  deployedAt: string;
  deployedBy: string;
  processes: { key: string; version: number; name: string }[];
}

export type InstanceStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** A user task that waits for a person. */
export interface UserTask {
  id: string;
  elementId: string;
  executionId: string;
  name: string;
  assignee: string | null;
  candidateUsers: string[];
  candidateGroups: string[];
  formFields: FormField[];
  createdAt: string;
}

/** An external task: work for a worker of a topic (a service or send task). */
export interface Job {
  id: string;
  elementId: string;
  executionId: string;
  elementName: string;
  topic: string;
  /** retries left as last reported by a worker; null until the first failure */
  retries: number | null;
  /** not offered to workers before this time (retry back-off) */
  availableAt: string;
  /** the worker id that holds the lock */
  lockedBy: string | null;
  /** the account that took the lock; only it (or an admin) may report on the job. Absent on locks taken before locks had accounts */
  lockedByAccount?: string | null;
  lockExpiresAt: string | null;
  /** set when retries ran out: the job waits for an operator */
  incident: { message: string; at: string } | null;
  createdAt: string;
  /** the task's input parameters, evaluated when the job was created (its local variables) */
  input?: Variables;
  /** the attempt the next delivery makes, from 1; a reported failure starts the next one */
  attempt?: number;
  /**
   * Set on a job Baton made beside the engine to notify people (a new user task, an incident).
   * Completing it moves no token; it is dropped when its task closes or the instance ends.
   */
  notification?: { reason: 'task' | 'incident'; taskId?: string; jobId?: string };
  /**
   * Set on an incident Baton raised for a step of the instance that failed (an expression failed
   * or passed a bound): the step, taken again when the incident is retried. No worker sees the job.
   */
  step?: Variables;
}

/** A timer that waits in the store, not in memory. */
export interface Timer {
  elementId: string;
  executionId: string;
  dueAt: string;
}

/** A message event or receive task waiting for a message. */
export interface MessageSubscription {
  name: string;
  elementId: string;
  executionId: string;
}

/** An instance as lists read it: its record without the engine state and the variables. */
export type InstanceListing = Omit<InstanceRecord, 'state' | 'variables'>;

/** The listing of a record: all of it but the engine state and the variables. */
export function listingOf(record: InstanceRecord): InstanceListing {
  const listing: Partial<InstanceRecord> = { ...record };
  delete listing.state;
  delete listing.variables;
  return listing as InstanceListing;
}

/** The durable record of one process instance. */
export interface InstanceRecord {
  id: string;
  processKey: string;
  processVersion: number;
  processName: string;
  businessKey: string | null;
  status: InstanceStatus;
  /** incremented by every save; the compare-and-set token */
  revision: number;
  variables: Variables;
  /** bpmn-engine state without the embedded definition */
  state: Json;
  userTasks: UserTask[];
  jobs: Job[];
  timers: Timer[];
  messages: MessageSubscription[];
  /** earliest timer due date, indexed for the scheduler */
  nextTimerAt: string | null;
  startedAt: string;
  startedBy: string;
  endedAt: string | null;
  /** why the instance failed */
  error: string | null;
  /** seq of the last history event written */
  historySeq: number;
}

/** One step in an instance's history, appended and never changed. */
export interface HistoryEvent {
  instanceId: string;
  /** position in the instance's history, from 1 */
  seq: number;
  at: string;
  type: string;
  elementId?: string;
  elementName?: string;
  elementType?: string;
  executionId?: string;
  user?: string;
  data?: Variables;
}

/** A page of results. */
export interface Page<T> {
  items: T[];
  total: number;
}

export interface InstanceQuery {
  status?: InstanceStatus;
  processKey?: string;
  businessKey?: string;
  /** only instances started by this user */
  startedBy?: string;
  offset: number;
  limit: number;
}

export interface TaskQuery {
  assignee?: string;
  candidateGroups?: string[];
  candidateUser?: string;
  instanceId?: string;
  offset: number;
  limit: number;
}

/** An open user task with the instance it belongs to. */
export interface TaskView extends UserTask {
  instanceId: string;
  processKey: string;
  businessKey: string | null;
}

/** A job that may be locked now, with the instance it belongs to. */
export interface JobCandidate {
  instanceId: string;
  jobId: string;
}

/**
 * A signed-in web app session. The cookie holds a random secret; the store keeps only a digest
 * of it as the id, so a copy of the database opens no session. A session that is not stored is
 * over: signing out, a password change and an admin's revocation delete it.
 */
export interface SessionRecord {
  /** digest of the cookie's secret */
  id: string;
  user: string;
  createdAt: string;
  expiresAt: string;
  /** digest of the user's password hash at sign-in: a changed password ends the session */
  credential: string;
}

/** The store contract. All methods are async so that networked stores fit. */
export interface Store {
  /** Saves a deployment and its new process versions, all or nothing; throws ConflictError if a (key, version) exists. */
  saveDeployment(deployment: Deployment, versions: ProcessVersion[]): Promise<void>;
  /** The newest version of a process, or null. */
  latestVersion(key: string): Promise<ProcessVersion | null>;
  /** One version of a process, or null. */
  getVersion(key: string, version: number): Promise<ProcessVersion | null>;
  /** All versions (of one key, or of all), keys in alphabetical order, newest version first within a key. */
  listVersions(key?: string): Promise<ProcessVersion[]>;

  /** Inserts a new instance (revision 1) with its first history events. */
  createInstance(record: InstanceRecord, events: HistoryEvent[]): Promise<void>;
  /** An instance by id, or null. */
  getInstance(id: string): Promise<InstanceRecord | null>;
  /**
   * Replaces an instance if its stored revision is still `expectedRevision`, storing
   * `record` with revision `expectedRevision + 1`, and appends its history events.
   * Throws RevisionConflictError when another writer saved first; then nothing is written.
   */
  updateInstance(record: InstanceRecord, expectedRevision: number, events: HistoryEvent[]): Promise<void>;
  /**
   * Instances matching the query, newest first, as listings: without the engine state and the
   * variables (the parts a user can make megabytes large), so a page costs little to read.
   */
  findInstances(query: InstanceQuery): Promise<Page<InstanceListing>>;
  /** The instance that holds or held this user task (also after it was completed), or null. */
  findInstanceByTask(taskId: string): Promise<InstanceRecord | null>;
  /** The instance that holds or held this external task (also after it was completed), or null. */
  findInstanceByJob(jobId: string): Promise<InstanceRecord | null>;
  /** Running instances waiting for a message of this name, optionally with this business key. */
  findMessageSubscribers(name: string, businessKey?: string): Promise<InstanceRecord[]>;
  /** Open user tasks matching the query, oldest first. Candidate filters match any of them. */
  findTasks(query: TaskQuery): Promise<Page<TaskView>>;
  /**
   * Jobs of these topics that are available at `now`: not locked or lock expired, back-off over,
   * no incident; oldest first.
   */
  findLockableJobs(topics: string[], now: string, limit: number): Promise<JobCandidate[]>;
  /** Ids of running instances with a timer due at `now`, earliest first. */
  findDueInstances(now: string, limit: number): Promise<string[]>;
  /** The stored revision of each of these instances that exists, read without their records (live updates poll it). */
  instanceRevisions(ids: string[]): Promise<Map<string, number>>;
  /** History of an instance in order. */
  history(instanceId: string): Promise<HistoryEvent[]>;

  /** Saves a new session; throws ConflictError if its id exists. */
  createSession(session: SessionRecord): Promise<void>;
  /** The session with this id if it expires after `now` (ISO), else null; one lookup by id. */
  getSession(id: string, now: string): Promise<SessionRecord | null>;
  /** Ends one session (sign-out); an unknown id is no error. */
  deleteSession(id: string): Promise<void>;
  /** Ends every session of a user; returns how many there were. */
  deleteUserSessions(user: string): Promise<number>;
  /** Deletes the sessions that expired at or before `now` (ISO); returns how many. */
  deleteExpiredSessions(now: string): Promise<number>;
  /** Releases resources. */
  close(): Promise<void>;
}
