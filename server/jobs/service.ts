import type { User } from '../auth/users.ts';
import type { ProcessModel } from '../engine/model.ts';
import { findErrorCatcher } from '../engine/model.ts';
import { retryDelay, type RetryPolicy } from '../engine/retry.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import { assertWithinLimits } from '../forms/variable-limits.ts';
import type { DefinitionCache } from '../instances/definitions.ts';
import type { Executor, NewEvent, Step } from '../instances/executor.ts';
import { raiseIncident } from '../instances/incidents.ts';
import type { Notifier } from '../notifications/notifier.ts';
import type { InstanceRecord, Job, Store, Variables } from '../store/types.ts';

/** An external task as a worker receives it (Camunda's LockedExternalTask, in Baton's words). */
export interface LockedTask {
  id: string;
  topicName: string;
  workerId: string;
  instanceId: string;
  processKey: string;
  elementId: string;
  elementName: string;
  executionId: string;
  businessKey: string | null;
  /** the instance's variables with the task's input parameters over them */
  variables: Variables;
  /** the task's input parameters alone (its local variables) */
  input: Variables;
  retries: number | null;
  /** which attempt this delivery is, from 1; with the id it makes the idempotency key */
  attempt: number;
  lockExpiresAt: string;
}

/**
 * Who reports on an external task: the worker id it gives (Camunda's workerId, any string) and the
 * account it signed in with. A lock belongs to both; knowing a worker id is not enough to act on it.
 */
export interface Worker {
  workerId: string;
  user: User;
}

export interface FetchRequest {
  worker: Worker;
  maxTasks: number;
  topics: { topicName: string; lockDuration: number }[];
  asyncResponseTimeout: number;
}

/** A worker's failure report. Without retries and retryTimeout, the model's retry cycle (or the server's) decides. */
export interface FailureReport {
  worker: Worker;
  errorMessage: string;
  /** attempts left; 0 makes an incident */
  retries?: number | undefined;
  /** ms until the task is offered again */
  retryTimeout?: number | undefined;
}

export interface JobService {
  /** Locks up to maxTasks available tasks of the topics; waits up to asyncResponseTimeout for some. */
  fetchAndLock(request: FetchRequest, signal: AbortSignal): Promise<LockedTask[]>;
  /** Completes a task; `details` (what a connector sent) go to the history only. */
  complete(jobId: string, worker: Worker, variables: unknown, details?: Variables): Promise<void>;
  failure(jobId: string, input: FailureReport): Promise<void>;
  /** A business error: caught by a matching error event, or an incident when none matches. */
  bpmnError(jobId: string, input: { worker: Worker; errorCode: string; errorMessage: string; variables?: unknown }): Promise<void>;
  extendLock(jobId: string, worker: Worker, newDuration: number): Promise<void>;
  /** Frees a lock: the account that took it may, an admin may free any. */
  unlock(jobId: string, user: User): Promise<void>;
  /** the topic of an external task, or null when there is no such task (for permission checks) */
  topicOf(jobId: string): Promise<string | null>;
  /** wakes long-polling fetches: jobs of these topics (or of any, without topics) were saved */
  notify(topics?: readonly string[]): void;
  /** shutting down: long-polling fetches answer what they hold (usually nothing) at once, and none waits from now on */
  releaseWaiters(): void;
  /** resolves on the next notify() of one of the topics, after ms, or when the signal aborts */
  waitForJobs(ms: number, signal: AbortSignal, topics?: readonly string[]): Promise<void>;
}

export interface JobServiceDeps {
  store: Store;
  executor: Executor;
  definitions: DefinitionCache;
  clock: () => Date;
  /** retries of a job whose element sets no camunda:failedJobRetryTimeCycle */
  retryPolicy: RetryPolicy;
  notifier?: Notifier | undefined;
}

const POLL_MS = 500;

/** The retry cycle of a job: its element's, or the server's. */
export function retryPolicyOf(model: ProcessModel, job: Job, fallback: RetryPolicy): RetryPolicy {
  return (!job.notification && model.retryPolicies.get(job.elementId)) || fallback;
}

export function createJobService({ store, executor, definitions, clock, retryPolicy, notifier }: JobServiceDeps): JobService {
  /** who waits for jobs, and of which topics (null: any) */
  const waiters = new Map<() => void, ReadonlySet<string> | null>();
  let released = false;

  const wait = (ms: number, signal: AbortSignal, topics?: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.set(done, topics ? new Set(topics) : null);
      signal.addEventListener('abort', done);
    });

  /** runs a transition on the job's instance with the job re-read inside it */
  const onJob = async <T>(jobId: string, decide: (record: InstanceRecord, job: Job, now: Date, model: ProcessModel) => Step<T>): Promise<T> => {
    const record = await store.findInstanceByJob(jobId);
    if (!record) throw new NotFoundError('external task', jobId);
    const { model } = await definitions.compiled(record.processKey, record.processVersion);
    return executor.transition(record.id, (fresh) => {
      const job = fresh.jobs.find((j) => j.id === jobId);
      if (!job || fresh.status !== 'running') throw new ConflictError(`external task <${jobId}> is no longer open`);
      return decide(fresh, job, clock(), model);
    });
  };

  /** history and record changes of a job that ends its attempt with an incident */
  const incident = (record: InstanceRecord, job: Job, message: string, now: Date, model: ProcessModel): NewEvent[] => {
    job.attempt = (job.attempt ?? 1) + 1;
    job.retries = 0;
    return raiseIncident({ record, job, message, now, model, notifier });
  };

  /** 403 unless the account took the job's lock, or is an admin's (a lock taken before locks had accounts belongs to its worker id alone) */
  const ownLock = (job: Job, user: User): void => {
    if (job.lockedByAccount && job.lockedByAccount !== user.name && !user.roles.includes('admin')) {
      throw new ForbiddenError(`external task <${job.id}> is locked by another account; only that account or an admin may report on it or unlock it`);
    }
  };

  const holding = (job: Job, { workerId, user }: Worker, now: Date): void => {
    if (job.lockedBy !== workerId || !job.lockExpiresAt || Date.parse(job.lockExpiresAt) <= now.getTime()) {
      throw new ConflictError(`external task <${job.id}> is not locked by worker ${workerId}`);
    }
    ownLock(job, user);
  };

  /** what the history records of who reported: the account as the event's user, the worker id in its data */
  const reporter = ({ workerId, user }: Worker): { user: string; data: { workerId: string } } => ({ user: user.name, data: { workerId } });

  /** locks the free jobs among `jobIds` of one instance in one transition (one write for all of them) */
  const tryLock = (instanceId: string, jobIds: string[], request: FetchRequest, durations: Map<string, number>) =>
    executor.transition(instanceId, (record): Step<LockedTask[]> => {
      const now = clock();
      const free = (j: Job): boolean =>
        !j.incident &&
        Date.parse(j.availableAt) <= now.getTime() &&
        (!j.lockExpiresAt || Date.parse(j.lockExpiresAt) <= now.getTime());
      const jobs = record.status === 'running' ? jobIds.flatMap((id) => record.jobs.filter((j) => j.id === id && free(j))) : [];
      if (!jobs.length) return { result: () => [] };
      const locks = jobs.map((job) => ({
        job,
        attempt: job.attempt ?? 1,
        lockExpiresAt: new Date(now.getTime() + (durations.get(job.topic) ?? 60_000)).toISOString(),
      }));
      return {
        events: locks.map(({ job, attempt }) => ({
          type: 'job.locked',
          elementId: job.elementId,
          executionId: job.executionId,
          user: request.worker.user.name,
          data: { jobId: job.id, attempt, workerId: request.worker.workerId },
        })),
        change: () => {
          for (const { job, lockExpiresAt } of locks) {
            job.lockedBy = request.worker.workerId;
            job.lockedByAccount = request.worker.user.name;
            job.lockExpiresAt = lockExpiresAt;
          }
        },
        result: (saved) =>
          locks.map(({ job, attempt, lockExpiresAt }) => ({
            id: job.id,
            topicName: job.topic,
            workerId: request.worker.workerId,
            instanceId: saved.id,
            processKey: saved.processKey,
            elementId: job.elementId,
            elementName: job.elementName,
            executionId: job.executionId,
            businessKey: saved.businessKey,
            variables: { ...saved.variables, ...job.input },
            input: job.input ?? {},
            retries: job.retries,
            attempt,
            lockExpiresAt,
          })),
      };
    });

  return {
    async fetchAndLock(request, signal) {
      const durations = new Map(request.topics.map((topic) => [topic.topicName, topic.lockDuration]));
      const deadline = Date.now() + request.asyncResponseTimeout;
      const locked: LockedTask[] = [];
      for (;;) {
        const candidates = await store.findLockableJobs([...durations.keys()], clock().toISOString(), request.maxTasks * 2);
        // the jobs of one instance (the salary's parallel calculations) are locked in one write
        const byInstance = new Map<string, string[]>();
        for (const { instanceId, jobId } of candidates) byInstance.set(instanceId, [...(byInstance.get(instanceId) ?? []), jobId]);
        for (const [instanceId, jobIds] of byInstance) {
          if (locked.length >= request.maxTasks || signal.aborted) break;
          const tasks = await tryLock(instanceId, jobIds.slice(0, request.maxTasks - locked.length), request, durations).catch((err: unknown) => {
            if (err instanceof ConflictError) return [];
            throw err;
          });
          locked.push(...tasks);
        }
        const left = deadline - Date.now();
        if (locked.length || left <= 0 || signal.aborted || released) return locked;
        await wait(Math.min(left, POLL_MS), signal, [...durations.keys()]);
      }
    },

    complete(jobId, worker, variables, details) {
      const values = validateForm([], variables, executor.limits);
      return onJob(jobId, (_, job, now) => {
        holding(job, worker, now);
        const { user, data: who } = reporter(worker);
        const data: Variables = { jobId, attempt: job.attempt ?? 1, ...who, variables: values, ...(details ? { details } : {}) };
        const event: NewEvent = { type: 'job.completed', elementId: job.elementId, elementName: job.elementName, executionId: job.executionId, user, data };
        if (job.notification) {
          return { events: [event], change: (record) => (record.jobs = record.jobs.filter((j) => j.id !== jobId)), result: () => undefined };
        }
        return {
          events: [event],
          action: { type: 'completeJob', executionId: job.executionId, variables: values, ...(job.input ? { local: job.input } : {}) },
          result: () => undefined,
        };
      });
    },

    failure(jobId, report) {
      const { worker, errorMessage } = report;
      return onJob(jobId, (record, job, now, model) => {
        holding(job, worker, now);
        const { user, data: who } = reporter(worker);
        const policy = retryPolicyOf(model, job, retryPolicy);
        const attempt = job.attempt ?? 1;
        const left = Math.max(0, report.retries ?? (job.retries ?? policy.retries) - 1);
        const wait = report.retryTimeout ?? retryDelay(policy, attempt);
        const retryAt = new Date(now.getTime() + wait).toISOString();
        const events: NewEvent[] = [
          {
            type: 'job.failed',
            elementId: job.elementId,
            elementName: job.elementName,
            executionId: job.executionId,
            user,
            data: { jobId, attempt, ...who, message: errorMessage, retries: left, ...(left > 0 ? { retryAt } : {}) },
          },
        ];
        if (left <= 0) events.push(...incident(record, job, errorMessage, now, model));
        else {
          job.retries = left;
          job.attempt = attempt + 1;
          job.lockedBy = null;
          job.lockedByAccount = null;
          job.lockExpiresAt = null;
          job.availableAt = retryAt;
        }
        return { events, result: () => undefined };
      });
    },

    bpmnError(jobId, { worker, errorCode, errorMessage, variables }) {
      const values = validateForm([], variables, executor.limits);
      return onJob(jobId, (record, job, now, model) => {
        holding(job, worker, now);
        const { user, data: who } = reporter(worker);
        const events: NewEvent[] = [
          { type: 'job.bpmnError', elementId: job.elementId, executionId: job.executionId, user, data: { jobId, attempt: job.attempt ?? 1, ...who, errorCode, message: errorMessage } },
        ];
        const catcher = job.notification ? null : findErrorCatcher(model, job.elementId, errorCode);
        assertWithinLimits({ ...record.variables, ...values }, executor.limits);
        Object.assign(record.variables, values);
        if (!catcher) {
          const reason = `BPMN error ${errorCode}${errorMessage ? ` (${errorMessage})` : ''} is not caught: no error event of <${job.elementId}> or its scopes matches it`;
          events.push(...incident(record, job, reason, now, model));
          return { events, result: () => undefined };
        }
        if (catcher.codeVariable) record.variables[catcher.codeVariable] = errorCode;
        if (catcher.messageVariable) record.variables[catcher.messageVariable] = errorMessage || errorCode;
        return {
          events,
          action: { type: 'jobError', executionId: job.executionId, code: errorCode, message: errorMessage || errorCode },
          result: () => undefined,
        };
      });
    },

    extendLock(jobId, worker, newDuration) {
      return onJob(jobId, (_, job, now) => {
        holding(job, worker, now);
        return {
          change: () => (job.lockExpiresAt = new Date(now.getTime() + newDuration).toISOString()),
          result: () => undefined,
        };
      });
    },

    unlock(jobId, user) {
      return onJob(jobId, (_, job) => {
        if (!job.lockedBy) throw new ValidationError(`external task <${jobId}> is not locked`);
        ownLock(job, user);
        return {
          events: [{ type: 'job.unlocked', elementId: job.elementId, executionId: job.executionId, user: user.name, data: { jobId, workerId: job.lockedBy } }],
          change: () => {
            job.lockedBy = null;
            job.lockedByAccount = null;
            job.lockExpiresAt = null;
          },
          result: () => undefined,
        };
      });
    },

    async topicOf(jobId) {
      const record = await store.findInstanceByJob(jobId);
      return record?.jobs.find((j) => j.id === jobId)?.topic ?? null;
    },

    releaseWaiters() {
      released = true;
      for (const wake of [...waiters.keys()]) wake();
    },

    notify(topics) {
      for (const [wake, wanted] of [...waiters]) {
        if (!topics || !wanted || topics.some((topic) => wanted.has(topic))) wake();
      }
    },

    waitForJobs(ms, signal, topics) {
      return signal.aborted ? Promise.resolve() : wait(ms, signal, topics);
    },
  };
}
