import Router from '@koa/router';
import { allow, currentUser } from '../http/auth.ts';
import { jsonBody, paging, queryString } from '../http/body.ts';
import type { TaskService } from './service.ts';

/** The task list: list, claim, unclaim and complete user tasks. */
export function taskRoutes(service: TaskService): Router {
  const router = new Router();
  // which tasks each one sees and works, the service decides
  router.use(allow('admin', 'operator', 'user'));

  router.get('/api/tasks', async (ctx) => {
    const assignee = queryString(ctx, 'assignee');
    const candidateGroup = queryString(ctx, 'candidateGroup');
    const instanceId = queryString(ctx, 'instanceId');
    ctx.body = await service.list(
      { ...paging(ctx), ...(assignee ? { assignee } : {}), ...(candidateGroup ? { candidateGroup } : {}), ...(instanceId ? { instanceId } : {}) },
      currentUser(ctx),
    );
  });

  router.get('/api/tasks/:id', async (ctx) => {
    ctx.body = await service.get(ctx.params.id as string, currentUser(ctx));
  });

  router.post('/api/tasks/:id/claim', async (ctx) => {
    ctx.body = await service.claim(ctx.params.id as string, currentUser(ctx));
  });

  router.post('/api/tasks/:id/unclaim', async (ctx) => {
    ctx.body = await service.unclaim(ctx.params.id as string, currentUser(ctx));
  });

  router.post('/api/tasks/:id/complete', async (ctx) => {
    await service.complete(ctx.params.id as string, jsonBody(ctx).variables, currentUser(ctx));
    ctx.status = 204;
  });

  return router;
}
