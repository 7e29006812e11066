import type { User } from '../auth/users.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import type { Executor, NewEvent, Step } from '../instances/executor.ts';
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
  variables: Variables;
  retries: number | null;
  lockExpiresAt: string;
}

export interface FetchRequest {
  workerId: string;
  maxTasks: number;
  topics: { topicName: string; lockDuration: number }[];
  asyncResponseTimeout: number;
}

export interface JobService {
  /** Locks up to maxTasks available tasks of the topics; waits up to asyncResponseTimeout for some. */
  fetchAndLock(request: FetchRequest, signal: AbortSignal): Promise<LockedTask[]>;
  complete(jobId: string, workerId: string, variables: unknown): Promise<void>;
  failure(jobId: string, input: { workerId: string; errorMessage: string; retries: number; retryTimeout: number }): Promise<void>;
  bpmnError(jobId: string, input: { workerId: string; errorCode: string; errorMessage: string; variables?: unknown }): Promise<void>;
  extendLock(jobId: string, workerId: string, newDuration: number): Promise<void>;
  unlock(jobId: string, user: User): Promise<void>;
  /** wakes long-polling fetches: new jobs were saved */
  notify(): void;
}

const POLL_MS = 500;

export function createJobService(store: Store, executor: Executor, clock: () => Date): JobService {
  let waiters = new Set<() => void>();

  const wait = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
      signal.addEventListener('abort', done);
    });

  /** runs a transition on the job's instance with the job re-read inside it */
  const onJob = async <T>(jobId: string, decide: (record: InstanceRecord, job: Job, now: Date) => Step<T>): Promise<T> => {
    const record = await store.findInstanceByJob(jobId);
    if (!record) throw new NotFoundError('external task', jobId);
    return executor.transition(record.id, (fresh) => {
      const job = fresh.jobs.find((j) => j.id === jobId);
      if (!job || fresh.status !== 'running') throw new ConflictError(`external task <${jobId}> is no longer open`);
      return decide(fresh, job, clock());
    });
  };

  const holding = (job: Job, workerId: string, now: Date): void => {
    if (job.lockedBy !== workerId || !job.lockExpiresAt || Date.parse(job.lockExpiresAt) <= now.getTime()) {
      throw new ConflictError(`external task <${job.id}> is not locked by worker ${workerId}`);
    }
  };

  const tryLock = (candidate: { instanceId: string; jobId: string }, request: FetchRequest, durations: Map<string, number>) =>
    executor.transition(candidate.instanceId, (record): Step<LockedTask | null> => {
      const now = clock();
      const job = record.jobs.find((j) => j.id === candidate.jobId);
      const free = (j: Job): boolean =>
        !j.incident &&
        Date.parse(j.availableAt) <= now.getTime() &&
        (!j.lockExpiresAt || Date.parse(j.lockExpiresAt) <= now.getTime());
      if (record.status !== 'running' || !job || !free(job)) return { result: () => null };
      const lockExpiresAt = new Date(now.getTime() + (durations.get(job.topic) ?? 60_000)).toISOString();
      return {
        events: [{ type: 'job.locked', elementId: job.elementId, executionId: job.executionId, user: request.workerId, data: { jobId: job.id } }],
        change: () => {
          job.lockedBy = request.workerId;
          job.lockExpiresAt = lockExpiresAt;
        },
        result: (saved) => ({
          id: job.id,
          topicName: job.topic,
          workerId: request.workerId,
          instanceId: saved.id,
          processKey: saved.processKey,
          elementId: job.elementId,
          elementName: job.elementName,
          executionId: job.executionId,
          businessKey: saved.businessKey,
          variables: saved.variables,
          retries: job.retries,
          lockExpiresAt,
        }),
      };
    });

  return {
    async fetchAndLock(request, signal) {
      const durations = new Map(request.topics.map((topic) => [topic.topicName, topic.lockDuration]));
      const deadline = Date.now() + request.asyncResponseTimeout;
      const locked: LockedTask[] = [];
      for (;;) {
        const candidates = await store.findLockableJobs([...durations.keys()], clock().toISOString(), request.maxTasks * 2);
        for (const candidate of candidates) {
          if (locked.length >= request.maxTasks || signal.aborted) break;
          const task = await tryLock(candidate, request, durations).catch((err: unknown) => {
            if (err instanceof ConflictError) return null;
            throw err;
          });
          if (task) locked.push(task);
        }
        const left = deadline - Date.now();
        if (locked.length || left <= 0 || signal.aborted) return locked;
        await wait(Math.min(left, POLL_MS), signal);
      }
    },

    complete(jobId, workerId, variables) {
      const values = validateForm([], variables);
      return onJob(jobId, (_, job, now) => {
        holding(job, workerId, now);
        return {
          events: [{ type: 'job.completed', elementId: job.elementId, elementName: job.elementName, executionId: job.executionId, user: workerId, data: { jobId, variables: values } }],
          action: { type: 'completeJob', executionId: job.executionId, variables: values },
          result: () => undefined,
        };
      });
    },

    failure(jobId, { workerId, errorMessage, retries, retryTimeout }) {
      return onJob(jobId, (_, job, now) => {
        holding(job, workerId, now);
        const incident = retries <= 0;
        const events: NewEvent[] = [
            { type: 'job.failed', elementId: job.elementId, executionId: job.executionId, user: workerId, data: { jobId, message: errorMessage, retries } },
        ];
        if (incident) events.push({ type: 'incident.created', elementId: job.elementId, executionId: job.executionId, data: { jobId, message: errorMessage } });
        return {
          events,
          change: () => {
            job.retries = Math.max(0, retries);
            job.lockedBy = null;
            job.lockExpiresAt = null;
            job.availableAt = new Date(now.getTime() + retryTimeout).toISOString();
            job.incident = incident ? { message: errorMessage, at: now.toISOString() } : null;
          },
          result: () => undefined,
        };
      });
    },

    bpmnError(jobId, { workerId, errorCode, errorMessage, variables }) {
      const values = validateForm([], variables);
      return onJob(jobId, (_, job, now) => {
        holding(job, workerId, now);
        return {
          events: [{ type: 'job.bpmnError', elementId: job.elementId, executionId: job.executionId, user: workerId, data: { jobId, errorCode, message: errorMessage } }],
          change: (record) => Object.assign(record.variables, values),
          action: { type: 'jobError', executionId: job.executionId, code: errorCode, message: errorMessage || errorCode },
          result: () => undefined,
        };
      });
    },

    extendLock(jobId, workerId, newDuration) {
      return onJob(jobId, (_, job, now) => {
        holding(job, workerId, now);
        return {
          change: () => (job.lockExpiresAt = new Date(now.getTime() + newDuration).toISOString()),
          result: () => undefined,
        };
      });
    },

    unlock(jobId, user) {
      return onJob(jobId, (_, job) => {
        if (!job.lockedBy) throw new ValidationError(`external task <${jobId}> is not locked`);
        return {
          events: [{ type: 'job.unlocked', elementId: job.elementId, executionId: job.executionId, user: user.name, data: { jobId } }],
          change: () => {
            job.lockedBy = null;
            job.lockExpiresAt = null;
          },
          result: () => undefined,
        };
      });
    },

    notify() {
      const current = waiters;
      waiters = new Set();
      for (const wake of current) wake();
    },
  };
}
