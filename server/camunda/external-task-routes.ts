/**
 * External tasks as camunda-external-task-client-js and other Camunda workers use them:
 * fetchAndLock with long polling, complete, failure, bpmnError, extendLock, unlock. Each call
 * goes to Baton's job service; a task that is gone (finished, withdrawn by a boundary event)
 * answers 404 and a lock held by another worker 400, as Camunda answers.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ConflictError, RevisionConflictError, ValidationError } from '../errors.ts';
import { currentUser, requireRole, requireTopic } from '../http/auth.ts';
import { jsonBody, optionalInt, optionalString, requiredString } from '../http/body.ts';
import type { Worker } from '../jobs/service.ts';
import type { Job } from '../store/types.ts';
import { lockedTaskDto } from './dto.ts';
import { CamundaError } from './errors.ts';
import { noContent, refuse, send } from './http.ts';
import type { Wiring } from './routes.ts';
import { fromTypedMap } from './variables.ts';

const DAY = 86_400_000;
/** Camunda's longest long poll. */
const MAX_ASYNC_RESPONSE_TIMEOUT = 1_800_000;
/** Topic filters Baton's fetch-and-lock cannot apply; refused rather than ignored. */
const TOPIC_FILTERS = [
  'businessKey',
  'processDefinitionId',
  'processDefinitionIdIn',
  'processDefinitionKey',
  'processDefinitionKeyIn',
  'processDefinitionVersionTag',
  'processVariables',
  'tenantIdIn',
];

/** Reads one topic of a fetchAndLock request. */
function readTopic(topic: unknown, index: number): { topicName: string; lockDuration: number; variables?: string[] } {
  if (!topic || typeof topic !== 'object' || Array.isArray(topic)) throw new ValidationError(`topics[${index}] must be an object`);
  const entry = topic as Record<string, unknown>;
  refuse(entry, TOPIC_FILTERS, `topics[${index}]`);
  const lockDuration = optionalInt(entry, 'lockDuration', 1, 7 * DAY);
  if (lockDuration === undefined) throw new ValidationError(`topics[${index}].lockDuration is required`, [{ path: 'lockDuration', message: 'is required' }]);
  const variables = entry.variables;
  if (variables !== undefined && variables !== null && (!Array.isArray(variables) || variables.some((name) => typeof name !== 'string'))) {
    throw new ValidationError(`topics[${index}].variables must be a list of variable names`);
  }
  return { topicName: requiredString(entry, 'topicName', 256), lockDuration, ...(Array.isArray(variables) ? { variables: variables as string[] } : {}) };
}

/** Registers the /external-task endpoints (workers and admins only). */
export function externalTaskEndpoints(router: Router, { jobs, store, lookup }: Wiring): void {
  const worker = (ctx: Context): void => requireRole(currentUser(ctx), 'worker', 'admin');
  /** the worker id a request gives and the account that sent it */
  const workerOf = (ctx: Context, body: Record<string, unknown>): Worker => ({ workerId: requiredString(body, 'workerId', 128), user: currentUser(ctx) });

  const find = async (id: string): Promise<Job | undefined> => {
    const record = await store.findInstanceByJob(id);
    return record?.status === 'running' ? record.jobs.find((j) => j.id === id) : undefined;
  };
  const missing = (id: string): CamundaError => new CamundaError(404, 'InvalidRequestException', `External task with id ${id} does not exist`);

  /** the open external task, or 404 the way Camunda words it */
  const open = async (id: string): Promise<Job> => {
    const job = await find(id);
    if (!job) throw missing(id);
    return job;
  };

  /**
   * Runs a job service call on an open task. A task withdrawn meanwhile (a boundary event, another
   * worker's BPMN error) is 404 like one that was gone before; a lock held by another worker stays 400.
   */
  const onOpen = async (ctx: Context, id: string, work: () => Promise<void>): Promise<void> => {
    requireTopic(currentUser(ctx), (await open(id)).topic);
    try {
      await work();
    } catch (err) {
      if (err instanceof ConflictError && !(err instanceof RevisionConflictError) && !(await find(id))) throw missing(id);
      throw err;
    }
  };

  router.post('/external-task/fetchAndLock', async (ctx) => {
    worker(ctx);
    const body = jsonBody(ctx);
    const from = workerOf(ctx, body);
    const maxTasks = optionalInt(body, 'maxTasks', 0, 100) ?? 10;
    const timeout = body.asyncResponseTimeout;
    if (typeof timeout === 'number' && timeout > MAX_ASYNC_RESPONSE_TIMEOUT) {
      throw new ValidationError(`The asynchronous response timeout cannot be set to a value greater than ${MAX_ASYNC_RESPONSE_TIMEOUT} milliseconds`);
    }
    const asyncResponseTimeout = optionalInt(body, 'asyncResponseTimeout', 0, MAX_ASYNC_RESPONSE_TIMEOUT) ?? 0;
    if (!Array.isArray(body.topics) || body.topics.length > 100) throw new ValidationError('topics must be a list of at most 100 topics');
    const topics = body.topics.map(readTopic);
    for (const { topicName } of topics) requireTopic(currentUser(ctx), topicName);
    if (!maxTasks || !topics.length) return send(ctx, []);
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    const locked = await jobs.fetchAndLock(
      { worker: from, maxTasks, topics: topics.map(({ topicName, lockDuration }) => ({ topicName, lockDuration })), asyncResponseTimeout },
      abort.signal,
    );
    const names = new Map(topics.map((topic) => [topic.topicName, topic.variables]));
    send(ctx, await Promise.all(locked.map(async (task) => lockedTaskDto(task, await lookup.ofInstanceId(task.instanceId), names.get(task.topicName)))));
  });

  router.post('/external-task/:id/complete', async (ctx) => {
    worker(ctx);
    const id = ctx.params.id as string;
    const body = jsonBody(ctx);
    refuse(body, ['localVariables'], 'complete');
    const from = workerOf(ctx, body);
    const variables = fromTypedMap(body.variables);
    await onOpen(ctx, id, () => jobs.complete(id, from, variables));
    noContent(ctx);
  });

  router.post('/external-task/:id/failure', async (ctx) => {
    worker(ctx);
    const id = ctx.params.id as string;
    const body = jsonBody(ctx);
    refuse(body, ['variables', 'localVariables'], 'failure');
    const input = {
      worker: workerOf(ctx, body),
      errorMessage: optionalString(body, 'errorMessage', 4000) ?? 'external task failed',
      retries: optionalInt(body, 'retries', 0, 1000) ?? 0,
      retryTimeout: optionalInt(body, 'retryTimeout', 0, 30 * DAY) ?? 0,
    };
    await onOpen(ctx, id, () => jobs.failure(id, input));
    noContent(ctx);
  });

  router.post('/external-task/:id/bpmnError', async (ctx) => {
    worker(ctx);
    const id = ctx.params.id as string;
    const body = jsonBody(ctx);
    const input = {
      worker: workerOf(ctx, body),
      errorCode: requiredString(body, 'errorCode', 256),
      errorMessage: optionalString(body, 'errorMessage', 4000) ?? '',
      variables: fromTypedMap(body.variables),
    };
    await onOpen(ctx, id, () => jobs.bpmnError(id, input));
    noContent(ctx);
  });

  router.post('/external-task/:id/extendLock', async (ctx) => {
    worker(ctx);
    const id = ctx.params.id as string;
    const body = jsonBody(ctx);
    const from = workerOf(ctx, body);
    const newDuration = optionalInt(body, 'newDuration', 1, 7 * DAY);
    if (newDuration === undefined) throw new ValidationError('newDuration is required', [{ path: 'newDuration', message: 'is required' }]);
    await onOpen(ctx, id, () => jobs.extendLock(id, from, newDuration));
    noContent(ctx);
  });

  router.post('/external-task/:id/unlock', async (ctx) => {
    worker(ctx);
    const id = ctx.params.id as string;
    const job = await open(id);
    requireTopic(currentUser(ctx), job.topic);
    if (job.lockedBy) await jobs.unlock(id, currentUser(ctx));
    noContent(ctx);
  });
}
