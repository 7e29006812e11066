import Router from '@koa/router';
import { ValidationError } from '../errors.ts';
import { currentUser, requireRole, requireTopic } from '../http/auth.ts';
import { jsonBody, optionalInt, optionalString, requiredString } from '../http/body.ts';
import type { Context } from 'koa';
import type { JobService, Worker } from './service.ts';

const DAY = 86_400_000;

/** the worker id a request gives and the account that sent it */
const workerOf = (ctx: Context, body: Record<string, unknown>): Worker => ({ workerId: requiredString(body, 'workerId', 128), user: currentUser(ctx) });

/** Camunda's external-task contract under /api/external-tasks, for workers. */
export function jobRoutes(service: JobService): Router {
  const router = new Router();
  router.use('/api/external-tasks', async (ctx, next) => {
    requireRole(currentUser(ctx), 'worker', 'admin');
    await next();
  });
  // a worker limited to some topics may finish only their tasks (an unknown task is 404 below)
  router.use('/api/external-tasks/:id/:action', async (ctx, next) => {
    const topic = ctx.params.id === 'fetch-and-lock' ? null : await service.topicOf(ctx.params.id as string);
    if (topic !== null) requireTopic(currentUser(ctx), topic);
    await next();
  });

  router.post('/api/external-tasks/fetch-and-lock', async (ctx) => {
    const body = jsonBody(ctx);
    const worker = workerOf(ctx, body);
    const maxTasks = optionalInt(body, 'maxTasks', 1, 100) ?? 1;
    const asyncResponseTimeout = optionalInt(body, 'asyncResponseTimeout', 0, 300_000) ?? 0;
    if (!Array.isArray(body.topics) || !body.topics.length || body.topics.length > 100) {
      throw new ValidationError('topics must be a non-empty array', [{ path: 'topics', message: 'give at least one {topicName, lockDuration}' }]);
    }
    const topics = body.topics.map((topic: unknown, index: number) => {
      if (!topic || typeof topic !== 'object') throw new ValidationError(`topics[${index}] must be an object`);
      const entry = topic as Record<string, unknown>;
      return {
        topicName: requiredString(entry, 'topicName', 256),
        lockDuration: optionalInt(entry, 'lockDuration', 1, 7 * DAY) ?? 60_000,
      };
    });
    for (const { topicName } of topics) requireTopic(currentUser(ctx), topicName);
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    ctx.body = await service.fetchAndLock({ worker, maxTasks, topics, asyncResponseTimeout }, abort.signal);
  });

  router.post('/api/external-tasks/:id/complete', async (ctx) => {
    const body = jsonBody(ctx);
    await service.complete(ctx.params.id as string, workerOf(ctx, body), body.variables);
    ctx.status = 204;
  });

  router.post('/api/external-tasks/:id/failure', async (ctx) => {
    const body = jsonBody(ctx);
    await service.failure(ctx.params.id as string, {
      worker: workerOf(ctx, body),
      errorMessage: optionalString(body, 'errorMessage', 4000) ?? 'failed',
      // omitted: the model's retry cycle (or BATON_RETRY_CYCLE) decides
      retries: optionalInt(body, 'retries', 0, 1000),
      retryTimeout: optionalInt(body, 'retryTimeout', 0, 30 * DAY),
    });
    ctx.status = 204;
  });

  router.post('/api/external-tasks/:id/bpmn-error', async (ctx) => {
    const body = jsonBody(ctx);
    await service.bpmnError(ctx.params.id as string, {
      worker: workerOf(ctx, body),
      errorCode: requiredString(body, 'errorCode', 256),
      errorMessage: optionalString(body, 'errorMessage', 4000) ?? '',
      variables: body.variables,
    });
    ctx.status = 204;
  });

  router.post('/api/external-tasks/:id/extend-lock', async (ctx) => {
    const body = jsonBody(ctx);
    const newDuration = optionalInt(body, 'newDuration', 1, 7 * DAY);
    if (newDuration === undefined) throw new ValidationError('newDuration is required', [{ path: 'newDuration', message: 'is required' }]);
    await service.extendLock(ctx.params.id as string, workerOf(ctx, body), newDuration);
    ctx.status = 204;
  });

  router.post('/api/external-tasks/:id/unlock', async (ctx) => {
    await service.unlock(ctx.params.id as string, currentUser(ctx));
    ctx.status = 204;
  });

  return router;
}
