import type { Logger } from 'pino';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import { ConflictError } from '../errors.ts';
import type { JobService, LockedTask } from '../jobs/service.ts';
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
   * Works every connector job available now, until none is left (also the ones a finished job
   * made); resolves with how many were worked. Runs after any work already under way, so when
   * it resolves the connectors are idle: tests call it instead of waiting.
   */
  tick(): Promise<number>;
  /** works jobs as they come: when new jobs are saved, and every intervalMs for retries falling due */
  start(): void;
  /** stops the loop; calls under way may finish (a job left locked is delivered again later) */
  stop(): Promise<void>;
}

const WORKER_ID = 'baton-connectors';
const BATCH = 10;
const MAX_ROUNDS = 100;
const STOP_WAIT_MS = 10_000;

export function createConnectorWorkers(deps: { jobs: JobService; connectors: Connector[]; log: Logger; intervalMs: number; lockMs: number }): ConnectorWorkers {
  const { jobs, connectors, log, intervalMs, lockMs } = deps;
  const byTopic = new Map(connectors.map((connector) => [connector.topic, connector]));
  const topics = [...byTopic.keys()].map((topicName) => ({ topicName, lockDuration: lockMs }));
  const controller = new AbortController();
  let chain: Promise<unknown> = Promise.resolve();
  let loop: Promise<void> | null = null;

  const report = async (task: LockedTask, what: string, call: () => Promise<void>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      const context = { connector: task.topicName, jobId: task.id, instanceId: task.instanceId, what };
      if (error instanceof ConflictError) log.info({ ...context, reason: error.message }, 'connector result not taken: the job is no longer ours');
      else log.error({ ...context, err: error }, 'connector result could not be saved');
    }
  };

  const work = async (task: LockedTask): Promise<void> => {
    const connector = byTopic.get(task.topicName);
    const idempotencyKey = `${task.id}.${task.attempt}`;
    let outcome: ConnectorOutcome;
    try {
      if (!connector) throw new ConnectorError(`no connector for topic ${task.topicName}`, false);
      outcome = await connector.execute({ task, idempotencyKey, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return; // stopping: the lock expires and the job comes again
      const failure = error instanceof ConnectorError ? error : new ConnectorError(`unexpected error: ${reason(error)}`, true);
      log.warn({ connector: task.topicName, jobId: task.id, instanceId: task.instanceId, attempt: task.attempt, error: failure.message, retry: failure.retry }, 'connector call failed');
      return report(task, 'failure', () =>
        jobs.failure(task.id, { workerId: WORKER_ID, errorMessage: failure.message, ...(failure.retry ? {} : { retries: 0 }) }),
      );
    }
    if (outcome.kind === 'bpmnError') {
      const { errorCode, errorMessage } = outcome;
      return report(task, 'bpmn-error', () => jobs.bpmnError(task.id, { workerId: WORKER_ID, errorCode, errorMessage }));
    }
    const { variables, details } = outcome;
    return report(task, 'complete', () => jobs.complete(task.id, WORKER_ID, variables, details));
  };

  const drain = async (): Promise<number> => {
    let worked = 0;
    for (let round = 0; round < MAX_ROUNDS && topics.length && !controller.signal.aborted; round++) {
      const tasks = await jobs.fetchAndLock({ workerId: WORKER_ID, maxTasks: BATCH, topics, asyncResponseTimeout: 0 }, controller.signal);
      if (!tasks.length) break;
      await Promise.all(tasks.map(work));
      worked += tasks.length;
    }
    return worked;
  };

  const tick = (): Promise<number> => {
    const run = chain.then(drain);
    chain = run.catch(() => 0);
    return run;
  };

  return {
    health() {
      const mode = (topic: string): string => [...byTopic.values()].find((c) => c.topic === topic)?.mode ?? 'off';
      return { sms: mode(CONNECTOR_TOPICS.sms), email: mode(CONNECTOR_TOPICS.email), http: mode(CONNECTOR_TOPICS.http) };
    },
    tick,
    start() {
      if (loop || !topics.length) return;
      loop = (async () => {
        while (!controller.signal.aborted) {
          await tick().catch((error: unknown) => log.error({ err: error }, 'connectors failed to work their jobs'));
          await jobs.waitForJobs(intervalMs, controller.signal, [...byTopic.keys()]);
        }
      })();
    },
    async stop() {
      controller.abort();
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
      await Promise.race([Promise.all([loop, chain]), bounded]);
      clearTimeout(timer);
      await Promise.all(connectors.map((connector) => connector.close?.()));
    },
  };
}
