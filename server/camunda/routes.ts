/**
 * /engine-rest: the part of Camunda 7's REST API that Camunda Modeler and Camunda's
 * external-task clients use, as a thin layer over Baton's own services (no second engine path).
 * Same paths, bodies, typed variables, status codes and `{type, message}` errors as Camunda;
 * every other /engine-rest endpoint answers 501 naming itself.
 */
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { DeploymentService } from '../deployments/service.ts';
import type { InstanceService } from '../instances/service.ts';
import type { JobService } from '../jobs/service.ts';
import type { MessageService } from '../messages/service.ts';
import type { Store } from '../store/types.ts';
import type { TaskService } from '../tasks/service.ts';
import { definitionEndpoints } from './definition-routes.ts';
import { createDefinitionLookup, type DefinitionLookup } from './definitions.ts';
import { deploymentEndpoints } from './deployment-routes.ts';
import { camundaErrors, NotImplementedError } from './errors.ts';
import { allow } from '../http/auth.ts';
import { externalTaskEndpoints } from './external-task-routes.ts';
import { historyEndpoints } from './history-routes.ts';
import { runtimeEndpoints } from './runtime-routes.ts';
import { taskEndpoints } from './task-routes.ts';

/** What the Camunda layer calls: Baton's services, the store for reads, the log and the upload limit. */
export interface CamundaDeps {
  deployments: DeploymentService;
  instances: InstanceService;
  tasks: TaskService;
  jobs: JobService;
  messages: MessageService;
  store: Store;
  log: Logger;
  /** largest deployment upload, in bytes */
  bodyLimitBytes: number;
}

/** The dependencies plus what the endpoint modules share. */
export interface Wiring extends CamundaDeps {
  lookup: DefinitionLookup;
}

/** The /engine-rest router. Authentication (HTTP Basic with Baton's users) runs before it, app-wide. */
export function camundaRoutes(deps: CamundaDeps): Router {
  const router = new Router({ prefix: '/engine-rest' });
  const wiring: Wiring = { ...deps, lookup: createDefinitionLookup(deps.store) };
  router.use(camundaErrors(deps.log));
  // workers reach only the external-task endpoints, messages and the engine's name and version
  router.use(['/deployment', '/process-definition', '/process-instance', '/task', '/history'], allow('admin', 'operator', 'user'));
  router.use('/incident', allow('admin', 'operator'));
  deploymentEndpoints(router, wiring);
  definitionEndpoints(router, wiring);
  runtimeEndpoints(router, wiring);
  taskEndpoints(router, wiring);
  externalTaskEndpoints(router, wiring);
  historyEndpoints(router, wiring);
  const notImplemented = (ctx: { method: string; path: string }): never => {
    throw new NotImplementedError(ctx.method, ctx.path);
  };
  router.all('/', notImplemented);
  router.all('/{*rest}', notImplemented);
  return router;
}
