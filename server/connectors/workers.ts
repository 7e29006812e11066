import type { Logger } from 'pino';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import { ConflictError, PayloadTooLargeError, ValidationError } from '../errors.ts';
import type { JobService, LockedTask, Worker } from '../jobs/service.ts';
import { ConnectorError, reason, type Connector, type ConnectorOutcome } from './types.ts';

/**
 * The built-in connectors as in-process workers (DESIGN.md, decision 3): they fetch and lock
 * their jobs, and complete, fail or raise BPMN errors through the job service exactly as an
 * outside worker does over REST. Retries, back-off and incidents are the job's.
 */
export interface ConnectorWorkers {
  /** which connectors run and how they send, for GET /health */
  health(): { sms: string; email: string; http: string };
  /**
   * The connectors whose outside system looks unwell, with why: a call has waited longer than
   * `slowMs`, or the last call failed in a way a retry may fix (down, timed out) and none has
   * succeeded since. GET /health reports them as `degraded`.
   */
  degraded(): Record<string, string>;
  /**
   * Works every connector job available now, until none is left (also the ones a finished job
   * made); resolves with how many were worked. Runs after any work already under way, so when
   * it resolves the connectors are idle: tests call it instead of waiting.
   */
  tick(): Promise<number>;
  /** works jobs as they come: when new jobs are saved, and every intervalMs for retries falling due */
  start(): void;
  /**
   * Stops taking jobs and lets calls under way finish for a while; the ones still running then
   * are aborted and their jobs unlocked, so a restart delivers them at once.
   */
  stop(): Promise<void>;
}

const WORKER_ID = 'baton-connectors';
/** the built-in connectors as a worker: their own account, which owns the locks they take */
const CONNECTORS: Worker = { workerId: WORKER_ID, user: { name: WORKER_ID, groups: [], roles: ['worker'] } };
/** calls one connector makes at once: a hanging system holds at most these, never another connector's */
const SLOTS = 16;
const STOP_WAIT_MS = 5_000;
/** a process that makes connector jobs in a loop still lets the drain end now and then */
const MAX_PER_DRAIN = 1_000;

interface TopicState {
  /** job id → when its call started */
  running: Map<string, number>;
  lastFailure: string | null;
  /** serialises drains of the topic: the loop's and tick()'s */
  chain: Promise<unknown>;
}

export function createConnectorWorkers(deps: {
  jobs: JobService;
  connectors: Connector[];
  log: Logger;
  intervalMs: number;
  lockMs: number;
  /** a call running longer than this makes its connector degraded; default 10 s */
  slowMs?: number;
}): ConnectorWorkers {
  const { jobs, connectors, log, intervalMs, lockMs } = deps;
  const slowMs = deps.slowMs ?? 10_000;
  const byTopic = new Map(connectors.map((connector) => [connector.topic, connector]));
  const states = new Map<string, TopicState>([...byTopic.keys()].map((topic) => [topic, { running: new Map(), lastFailure: null, chain: Promise.resolve() }]));
  const stopping = new AbortController();
  const controller = new AbortController();
  const loops: Promise<void>[] = [];

  const report = async (task: LockedTask, what: string, call: () => Promise<void>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      const context = { connector: task.topicName, jobId: task.id, instanceId: task.instanceId, what };
      if (error instanceof ConflictError) log.info({ ...context, reason: error.message }, 'connector result not taken: the job is no longer ours');
      else log.error({ ...context, err: error }, 'connector result could not be saved');
    }
  };

  const work = async (task: LockedTask, state: TopicState): Promise<void> => {
    const connector = byTopic.get(task.topicName);
    const idempotencyKey = `${task.id}.${task.attempt}`;
    let outcome: ConnectorOutcome;
    state.running.set(task.id, Date.now());
    try {
      if (!connector) throw new ConnectorError(`no connector for topic ${task.topicName}`, false);
      outcome = await connector.execute({ task, idempotencyKey, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) {
        // stopping: give the job back so the next start delivers it at once
        return report(task, 'unlock', () => jobs.unlock(task.id, CONNECTORS.user));
      }
      const failure = error instanceof ConnectorError ? error : new ConnectorError(`unexpected error: ${reason(error)}`, true);
      if (failure.retry) state.lastFailure = failure.message;
      log.warn({ connector: task.topicName, jobId: task.id, instanceId: task.instanceId, attempt: task.attempt, error: failure.message, retry: failure.retry }, 'connector call failed');
      return report(task, 'failure', () =>
        jobs.failure(task.id, { worker: CONNECTORS, errorMessage: failure.message, ...(failure.retry ? {} : { retries: 0 }) }),
      );
    } finally {
      state.running.delete(task.id);
    }
    state.lastFailure = null;
    if (outcome.kind === 'bpmnError') {
      const { errorCode, errorMessage } = outcome;
      return report(task, 'bpmn-error', () => jobs.bpmnError(task.id, { worker: CONNECTORS, errorCode, errorMessage }));
    }
    const { variables, details } = outcome;
    return report(task, 'complete', () =>
      jobs.complete(task.id, CONNECTORS, variables, details).catch((error: unknown) => {
        // a result the instance may not hold (too large, too many variables) is an incident with the reason, not a retry loop
        if (!(error instanceof ValidationError || error instanceof PayloadTooLargeError)) throw error;
        log.warn({ connector: task.topicName, jobId: task.id, instanceId: task.instanceId, error: error.message }, 'connector result refused');
        return jobs.failure(task.id, { worker: CONNECTORS, errorMessage: `the result cannot be stored: ${error.message}`, retries: 0 });
      }),
    );
  };

  /** works the topic's available jobs, at most SLOTS at once, refilling as calls end, until none is left */
  const drain = async (topic: string, state: TopicState): Promise<number> => {
    const calls = new Set<Promise<void>>();
    let worked = 0;
    for (;;) {
      const free = SLOTS - calls.size;
      if (free > 0 && worked < MAX_PER_DRAIN && !stopping.signal.aborted) {
        const tasks = await jobs.fetchAndLock({ worker: CONNECTORS, maxTasks: free, topics: [{ topicName: topic, lockDuration: lockMs }], asyncResponseTimeout: 0 }, stopping.signal);
        for (const task of tasks) {
          const call: Promise<void> = work(task, state).finally(() => calls.delete(call));
          calls.add(call);
        }
        worked += tasks.length;
        if (tasks.length) continue;
      }
      if (!calls.size) return worked;
      // look again when a call ends or a new job of the topic is saved: a slow call holds only its slot
      // (when stopping, only the calls: they end by themselves or when stop() aborts them)
      await Promise.race(stopping.signal.aborted ? calls : [...calls, jobs.waitForJobs(intervalMs, stopping.signal, [topic])]);
    }
  };

  const tickTopic = (topic: string): Promise<number> => {
    const state = states.get(topic) as TopicState;
    const run = state.chain.then(() => drain(topic, state));
    state.chain = run.catch(() => 0);
    return run;
  };

  return {
    health() {
      const mode = (topic: string): string => byTopic.get(topic)?.mode ?? 'off';
      return { sms: mode(CONNECTOR_TOPICS.sms), email: mode(CONNECTOR_TOPICS.email), http: mode(CONNECTOR_TOPICS.http) };
    },
    degraded() {
      const found: Record<string, string> = {};
      const now = Date.now();
      for (const [topic, state] of states) {
        const name = Object.entries(CONNECTOR_TOPICS).find(([, t]) => t === topic)?.[0] ?? topic;
        const oldest = Math.min(...state.running.values());
        if (now - oldest > slowMs) found[name] = `a call has waited ${Math.round((now - oldest) / 1000)} s for an answer (${state.running.size} under way)`;
        else if (state.lastFailure) found[name] = `the last call failed: ${state.lastFailure}`;
      }
      return found;
    },
    async tick() {
      const counts = await Promise.all([...states.keys()].map(tickTopic));
      return counts.reduce((sum, count) => sum + count, 0);
    },
    start() {
      if (loops.length) return;
      for (const topic of states.keys()) {
        loops.push(
          (async () => {
            while (!stopping.signal.aborted) {
              await tickTopic(topic).catch((error: unknown) => log.error({ err: error, connector: topic }, 'connector failed to work its jobs'));
              await jobs.waitForJobs(intervalMs, stopping.signal, [topic]);
            }
          })(),
        );
      }
    },
    async stop() {
      stopping.abort();
      let timer: NodeJS.Timeout | undefined;
      const settled = Promise.all([...loops, ...[...states.values()].map((state) => state.chain)]);
      const bounded = new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
      await Promise.race([settled, bounded]);
      controller.abort();
      clearTimeout(timer);
      // the aborted calls unlock their jobs; bounded again in case a connector ignores the signal
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      await Promise.all(connectors.map((connector) => connector.close?.()));
    },
  };
}
