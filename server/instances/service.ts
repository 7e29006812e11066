import type { User } from '../auth/users.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import type { HistoryEvent, InstanceListing, InstanceQuery, InstanceRecord, InstanceStatus, Page, Store } from '../store/types.ts';
import type { DefinitionCache } from './definitions.ts';
import { elementRuns, type ElementRun } from './elements.ts';
import type { Executor } from './executor.ts';
import { may } from '../auth/permissions.ts';

/** An instance as the API shows it: no engine state. */
export interface InstanceView {
  id: string;
  processKey: string;
  processVersion: number;
  processName: string;
  businessKey: string | null;
  status: InstanceStatus;
  variables: InstanceRecord['variables'];
  startedAt: string;
  startedBy: string;
  endedAt: string | null;
  error: string | null;
  tasks: { id: string; elementId: string; name: string; assignee: string | null; candidateGroups: string[] }[];
  externalTasks: { id: string; elementId: string; topic: string; lockedBy: string | null; retries: number | null; incident: string | null }[];
  /** Baton's own notifications still to send (task e-mails, incident SMS) */
  notifications: { id: string; elementId: string; topic: string; reason: 'task' | 'incident'; lockedBy: string | null; retries: number | null; incident: string | null }[];
  /** jobs waiting for an operator (GET /api/incidents) */
  incidents: { id: string; elementId: string; elementName: string; topic: string; message: string; createdAt: string }[];
  timers: InstanceRecord['timers'];
  elements?: ElementRun[];
}

/** An instance as lists show it: without its variables, which only GET /api/instances/<id> answers. */
export type InstanceSummary = Omit<InstanceView, 'variables' | 'elements'>;

export interface InstanceService {
  start(key: string, input: { variables?: unknown; businessKey?: string }, user: User): Promise<InstanceView>;
  get(id: string, user: User): Promise<InstanceView>;
  /** a page of instances, newest first, without their variables */
  list(query: InstanceQuery, user: User): Promise<Page<InstanceSummary>>;
  history(id: string, user: User): Promise<HistoryEvent[]>;
  cancel(id: string, user: User): Promise<InstanceView>;
}

/** What the API shows of a record. */
export function toView(record: InstanceRecord): InstanceView {
  return { ...toSummary(record), variables: record.variables };
}

/** What a list shows of a record: everything but the variables. */
export function toSummary(record: InstanceListing): InstanceSummary {
  return {
    id: record.id,
    processKey: record.processKey,
    processVersion: record.processVersion,
    processName: record.processName,
    businessKey: record.businessKey,
    status: record.status,
    startedAt: record.startedAt,
    startedBy: record.startedBy,
    endedAt: record.endedAt,
    error: record.error,
    tasks: record.userTasks.map(({ id, elementId, name, assignee, candidateGroups }) => ({ id, elementId, name, assignee, candidateGroups })),
    externalTasks: record.jobs
      .filter((job) => !job.notification && !job.step)
      .map(({ id, elementId, topic, lockedBy, retries, incident }) => ({ id, elementId, topic, lockedBy, retries, incident: incident?.message ?? null })),
    notifications: record.jobs.flatMap(({ id, elementId, topic, lockedBy, retries, incident, notification }) =>
      notification ? [{ id, elementId, topic, reason: notification.reason, lockedBy, retries, incident: incident?.message ?? null }] : [],
    ),
    incidents: record.jobs.flatMap(({ id, elementId, elementName, topic, incident }) =>
      incident ? [{ id, elementId, elementName, topic, message: incident.message, createdAt: incident.at }] : [],
    ),
    timers: record.timers,
  };
}

/** Admins and operators see every instance; others those they started or hold a task in. */
export function canSee(user: User, record: Pick<InstanceRecord, 'startedBy' | 'userTasks'>): boolean {
  if (may(user, 'operate')) return true;
  if (record.startedBy === user.name) return true;
  return record.userTasks.some(
    (task) =>
      task.assignee === user.name ||
      task.candidateUsers.includes(user.name) ||
      task.candidateGroups.some((group) => user.groups.includes(group)),
  );
}

export function createInstanceService(store: Store, definitions: DefinitionCache, executor: Executor): InstanceService {
  const load = async (id: string, user: User): Promise<InstanceRecord> => {
    const record = await store.getInstance(id);
    if (!record || !canSee(user, record)) throw new NotFoundError('instance', id);
    return record;
  };

  return {
    async start(key, input, user) {
      if (!may(user, 'start')) throw new ForbiddenError('only admins and users start instances');
      const version = await definitions.latest(key);
      const { model } = await definitions.compiled(key, version.version);
      if (!model.executable) throw new ValidationError(`process <${key}> is not executable`);
      if (input.businessKey !== undefined && (typeof input.businessKey !== 'string' || input.businessKey.length > 256)) {
        throw new ValidationError('businessKey must be a string of at most 256 characters', [{ path: 'businessKey', message: 'must be a string' }]);
      }
      const variables = validateForm(model.startForm, input.variables, executor.limits);
      const record = await executor.start({
        key,
        version: version.version,
        variables,
        businessKey: input.businessKey ?? null,
        user: user.name,
      });
      return toView(record);
    },

    async get(id, user) {
      const record = await load(id, user);
      return { ...toView(record), elements: elementRuns(record, await store.history(id)) };
    },

    async list(query, user) {
      const scoped = may(user, 'operate') ? query : { ...query, startedBy: user.name };
      const page = await store.findInstances(scoped);
      return { items: page.items.map(toSummary), total: page.total };
    },

    async history(id, user) {
      await load(id, user);
      return store.history(id);
    },

    async cancel(id, user) {
      if (!may(user, 'operate')) throw new ForbiddenError('only admins and operators cancel instances');
      await load(id, user);
      return executor.transition(id, (record) => {
        if (record.status !== 'running') throw new ConflictError(`instance <${id}> is ${record.status}`);
        return {
          events: [{ type: 'instance.cancelled', user: user.name }],
          change: (r, now) => {
            r.status = 'cancelled';
            r.endedAt = now.toISOString();
            r.userTasks = [];
            r.jobs = [];
            r.timers = [];
            r.messages = [];
            r.nextTimerAt = null;
          },
          result: toView,
        };
      });
    },
  };
}
