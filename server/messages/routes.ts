import Router from '@koa/router';
import { currentUser } from '../http/auth.ts';
import { jsonBody, optionalString, requiredString } from '../http/body.ts';
import type { MessageService } from './service.ts';

/** POST /api/messages: message events and receive tasks. */
export function messageRoutes(service: MessageService): Router {
  const router = new Router();
  router.post('/api/messages', async (ctx) => {
    const body = jsonBody(ctx);
    const instanceId = optionalString(body, 'instanceId', 64);
    const correlationKey = optionalString(body, 'correlationKey', 256);
    const instances = await service.correlate(
      {
        name: requiredString(body, 'name', 256),
        ...(instanceId ? { instanceId } : {}),
        ...(correlationKey ? { correlationKey } : {}),
        variables: body.variables,
      },
      currentUser(ctx),
    );
    ctx.body = { instances };
  });
  return router;
}
