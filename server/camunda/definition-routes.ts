/**
 * Process definitions: list, count, one by key or id, its XML, and starting an instance by key
 * (Camunda's usual call) or by definition id (Camunda Modeler's "Start instance").
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';
import { currentUser } from '../http/auth.ts';
import { jsonBody, optionalString } from '../http/body.ts';
import type { ProcessVersion } from '../store/types.ts';
import { definitionDto, definitionId } from './definitions.ts';
import { instanceDto } from './dto.ts';
import { CamundaError } from './errors.ts';
import { bodyFlag, flag, integer, list, param, refuse, send, serverUrl, slice, window } from './http.ts';
import type { Wiring } from './routes.ts';
import { fromTypedMap, toTypedMap } from './variables.ts';

/** Registers the /process-definition endpoints. */
export function definitionEndpoints(router: Router, { store, instances, lookup }: Wiring): void {
  /** versions matching Camunda's query parameters, keys alphabetical, newest version first */
  const query = async (ctx: Context): Promise<ProcessVersion[]> => {
    const key = param(ctx, 'key');
    const keys = list(ctx, 'keysIn');
    const name = param(ctx, 'name');
    const nameLike = param(ctx, 'nameLike');
    const version = integer(ctx, 'version');
    const latest = flag(ctx, 'latestVersion');
    const deploymentId = param(ctx, 'deploymentId');
    const ids = [param(ctx, 'processDefinitionId'), ...(list(ctx, 'processDefinitionIdIn') ?? [])].filter(Boolean);
    const like = nameLike ? new RegExp(`^${nameLike.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`) : null;
    const all = await store.listVersions(key);
    return all.filter(
      (v, index) =>
        (!keys || keys.includes(v.key)) &&
        (!name || v.name === name) &&
        (!like || like.test(v.name)) &&
        (version === undefined || v.version === version) &&
        (!latest || all.findIndex((other) => other.key === v.key) === index) &&
        (!deploymentId || v.deploymentId === deploymentId) &&
        (!ids.length || ids.includes(definitionId(v))),
    );
  };

  const latestOf = async (key: string): Promise<ProcessVersion> => {
    const found = await store.latestVersion(key);
    if (!found) throw new CamundaError(404, 'InvalidRequestException', `No matching process definition with key: ${key} and no tenant-id`);
    return found;
  };

  const byId = async (id: string): Promise<ProcessVersion> => {
    const found = await lookup.version(id);
    if (!found) throw new CamundaError(404, 'InvalidRequestException', `No matching definition with id ${id}`);
    return found;
  };

  const start = async (ctx: Context, version: ProcessVersion): Promise<void> => {
    const body = jsonBody(ctx);
    refuse(body, ['startInstructions', 'caseInstanceId'], 'start');
    const variables = fromTypedMap(body.variables);
    const businessKey = optionalString(body, 'businessKey');
    const instance = await instances.start(version.key, { variables, ...(businessKey ? { businessKey } : {}) }, currentUser(ctx));
    const dto = instanceDto(instance, definitionId(version), serverUrl(ctx));
    send(ctx, bodyFlag(body, 'withVariablesInReturn') ? { ...dto, variables: toTypedMap(instance.variables) } : dto);
  };

  router.get('/process-definition', async (ctx) => send(ctx, slice(await query(ctx), window(ctx)).map((v) => definitionDto(v))));
  router.get('/process-definition/count', async (ctx) => send(ctx, { count: (await query(ctx)).length }));

  router.get('/process-definition/key/:key', async (ctx) => send(ctx, definitionDto(await latestOf(ctx.params.key as string))));
  router.get('/process-definition/key/:key/xml', async (ctx) => {
    const version = await latestOf(ctx.params.key as string);
    send(ctx, { id: definitionId(version), bpmn20Xml: version.xml });
  });
  router.post('/process-definition/key/:key/start', async (ctx) => start(ctx, await latestOf(ctx.params.key as string)));

  router.get('/process-definition/:id', async (ctx) => send(ctx, definitionDto(await byId(ctx.params.id as string))));
  router.get('/process-definition/:id/xml', async (ctx) => {
    const version = await byId(ctx.params.id as string);
    send(ctx, { id: definitionId(version), bpmn20Xml: version.xml });
  });
  router.post('/process-definition/:id/start', async (ctx) => {
    const version = await byId(ctx.params.id as string);
    const latest = await latestOf(version.key);
    if (latest.version !== version.version) {
      throw new ValidationError(
        `Baton starts the newest version of a process only: ${ctx.params.id} is version ${version.version}, the newest is ${definitionId(latest)}`,
      );
    }
    await start(ctx, version);
  });
}
