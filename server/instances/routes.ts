import Router from '@koa/router';
import { ValidationError } from '../errors.ts';
import { allow, currentUser } from '../http/auth.ts';
import { jsonBody, optionalString, paging, queryString } from '../http/body.ts';
import type { InstanceStatus } from '../store/types.ts';
import type { InstanceService } from './service.ts';

const STATUSES: InstanceStatus[] = ['running', 'completed', 'failed', 'cancelled'];

/** Starting, reading and cancelling instances. */
export function instanceRoutes(service: InstanceService): Router {
  const router = new Router();
  // who may start or cancel, and which instances each sees, the service decides
  router.use(allow('admin', 'operator', 'user'));

  router.post('/api/processes/:key/instances', async (ctx) => {
    const body = jsonBody(ctx);
    const instance = await service.start(
      ctx.params.key as string,
      { variables: body.variables, businessKey: optionalString(body, 'businessKey') },
      currentUser(ctx),
    );
    ctx.status = 201;
    ctx.set('Location', `/api/instances/${instance.id}`);
    ctx.body = instance;
  });

  router.get('/api/instances', async (ctx) => {
    const status = queryString(ctx, 'status');
    if (status && !STATUSES.includes(status as InstanceStatus)) {
      throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, [{ path: 'status', message: 'unknown status' }]);
    }
    const processKey = queryString(ctx, 'processKey');
    const businessKey = queryString(ctx, 'businessKey');
    ctx.body = await service.list(
      {
        ...paging(ctx),
        ...(status ? { status: status as InstanceStatus } : {}),
        ...(processKey ? { processKey } : {}),
        ...(businessKey ? { businessKey } : {}),
      },
      currentUser(ctx),
    );
  });

  router.get('/api/instances/:id', async (ctx) => {
    ctx.body = await service.get(ctx.params.id as string, currentUser(ctx));
  });

  router.get('/api/instances/:id/history', async (ctx) => {
    ctx.body = await service.history(ctx.params.id as string, currentUser(ctx));
  });

  router.post('/api/instances/:id/cancel', async (ctx) => {
    ctx.body = await service.cancel(ctx.params.id as string, currentUser(ctx));
  });

  return router;
}
