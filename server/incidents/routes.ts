import Router from '@koa/router';
import { currentUser } from '../http/auth.ts';
import { jsonBody, paging, queryString } from '../http/body.ts';
import type { IncidentService } from './service.ts';

/** Incidents for operators: list them, retry one (resolving by cancelling is /api/instances/:id/cancel). */
export function incidentRoutes(service: IncidentService): Router {
  const router = new Router();

  router.get('/api/incidents', async (ctx) => {
    const processKey = queryString(ctx, 'processKey');
    const elementId = queryString(ctx, 'elementId');
    const instanceId = queryString(ctx, 'instanceId');
    ctx.body = await service.list(
      { ...paging(ctx), ...(processKey ? { processKey } : {}), ...(elementId ? { elementId } : {}), ...(instanceId ? { instanceId } : {}) },
      currentUser(ctx),
    );
  });

  router.post('/api/incidents/:id/retry', async (ctx) => {
    const body = jsonBody(ctx);
    await service.retry(ctx.params.id as string, { variables: body.variables }, currentUser(ctx));
    ctx.status = 204;
  });

  return router;
}
