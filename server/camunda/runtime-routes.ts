/**
 * Running instances, message correlation and incidents. Camunda's runtime API shows running
 * instances only; ended ones are in /history. Incidents are read from the instance records:
 * an external task whose retries ran out is one `failedExternalTask` incident.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError } from '../errors.ts';
import { currentUser, requireRole } from '../http/auth.ts';
import { jsonBody, optionalString, requiredString } from '../http/body.ts';
import { canSee, type InstanceSummary, type InstanceView } from '../instances/service.ts';
import type { InstanceListing, InstanceRecord } from '../store/types.ts';
import { parseDefinitionId } from './definitions.ts';
import { incidentDto, instanceDto } from './dto.ts';
import { CamundaError, reworded } from './errors.ts';
import { bodyFlag, collect, flag, list, needed, noContent, param, refuse, send, serverUrl, slice, window } from './http.ts';
import type { Wiring } from './routes.ts';
import { fromTypedMap, toTyped, toTypedMap } from './variables.ts';

/** Registers /process-instance, /message and /incident. */
export function runtimeEndpoints(router: Router, { instances, messages, store, lookup }: Wiring): void {
  /** running instances matching Camunda's query parameters, newest first */
  const query = async (ctx: Context, need = Number.POSITIVE_INFINITY): Promise<InstanceSummary[]> => {
    const ids = list(ctx, 'processInstanceIds');
    const businessKey = param(ctx, 'businessKey');
    const key = param(ctx, 'processDefinitionKey');
    const definition = param(ctx, 'processDefinitionId');
    const parsed = definition ? parseDefinitionId(definition) : null;
    if (flag(ctx, 'suspended') || (definition && !parsed) || (parsed && key && parsed.key !== key)) return [];
    const processKey = parsed?.key ?? key;
    const user = currentUser(ctx);
    return collect(
      (offset, limit) =>
        instances.list({ status: 'running', ...(processKey ? { processKey } : {}), ...(businessKey ? { businessKey } : {}), offset, limit }, user),
      (view) => (!ids || ids.includes(view.id)) && (!parsed || view.processVersion === parsed.version),
      need,
    );
  };

  const running = async (ctx: Context): Promise<InstanceView> => {
    const id = ctx.params.id as string;
    const missing = new CamundaError(404, 'InvalidRequestException', `Process instance with id ${id} does not exist`);
    const view = await reworded(instances.get(id, currentUser(ctx)), (error) => (error instanceof NotFoundError ? missing : undefined));
    if (view.status !== 'running') throw missing;
    return view;
  };

  router.get('/process-instance', async (ctx) => {
    const win = window(ctx);
    const found = slice(await query(ctx, needed(win)), win);
    send(ctx, await Promise.all(found.map(async (view) => instanceDto(view, await lookup.ofInstance(view), serverUrl(ctx)))));
  });
  router.get('/process-instance/count', async (ctx) => send(ctx, { count: (await query(ctx)).length }));
  router.get('/process-instance/:id', async (ctx) => {
    const view = await running(ctx);
    send(ctx, instanceDto(view, await lookup.ofInstance(view), serverUrl(ctx)));
  });
  router.get('/process-instance/:id/variables', async (ctx) => {
    send(ctx, toTypedMap((await running(ctx)).variables, list(ctx, 'variableNames')));
  });
  router.get('/process-instance/:id/variables/:name', async (ctx) => {
    const variables = (await running(ctx)).variables;
    const name = ctx.params.name as string;
    if (!Object.hasOwn(variables, name)) {
      throw new CamundaError(404, 'InvalidRequestException', `process instance variable with name ${name} does not exist`);
    }
    send(ctx, toTyped(variables[name]));
  });

  router.post('/message', async (ctx) => {
    const user = currentUser(ctx);
    requireRole(user, 'admin', 'operator', 'worker');
    const body = jsonBody(ctx);
    refuse(body, ['correlationKeys', 'localCorrelationKeys', 'processVariablesLocal', 'tenantId', 'variablesInResultEnabled', 'startInstructions'], 'message');
    const name = requiredString(body, 'messageName', 256);
    const instanceId = optionalString(body, 'processInstanceId', 64);
    const businessKey = optionalString(body, 'businessKey', 256);
    const variables = fromTypedMap(body.processVariables, 'processVariables');
    if (!bodyFlag(body, 'all') && !instanceId) {
      const waiting = await store.findMessageSubscribers(name, businessKey);
      if (waiting.length > 1) {
        throw new CamundaError(400, 'RestException', `Cannot correlate message '${name}': ${waiting.length} process instances wait for it; give businessKey, processInstanceId or all: true`);
      }
    }
    const delivered = await reworded(
      messages.correlate({ name, ...(instanceId ? { instanceId } : {}), ...(businessKey ? { correlationKey: businessKey } : {}), variables }, user),
      (error) =>
        error instanceof NotFoundError
          ? new CamundaError(400, 'RestException', `Cannot correlate message '${name}': No process definition or execution matches the parameters`)
          : undefined,
    );
    if (!bodyFlag(body, 'resultEnabled')) return noContent(ctx);
    send(
      ctx,
      delivered.map((id) => ({ resultType: 'Execution', execution: { id, processInstanceId: id, ended: false, tenantId: null }, processInstance: null })),
    );
  });

  /** incidents of running instances the user may see */
  const incidents = async (ctx: Context) => {
    const user = currentUser(ctx);
    const instanceId = param(ctx, 'processInstanceId');
    const type = param(ctx, 'incidentType');
    const activityId = param(ctx, 'activityId');
    const definition = param(ctx, 'processDefinitionId');
    const incidentId = param(ctx, 'incidentId');
    if (type && type !== 'failedExternalTask') return [];
    const hasIncident = (record: InstanceListing): boolean => record.status === 'running' && record.jobs.some((job) => job.incident);
    const records: InstanceListing[] = instanceId
      ? [await store.getInstance(instanceId)].filter((record): record is InstanceRecord => !!record && hasIncident(record))
      : await collect((offset, limit) => store.findInstances({ status: 'running', offset, limit }), hasIncident);
    const result: ReturnType<typeof incidentDto>[] = [];
    for (const record of records) {
      if (!canSee(user, record)) continue;
      const definitionId = await lookup.ofInstance(record);
      if (definition && definitionId !== definition) continue;
      for (const job of record.jobs) {
        if (!job.incident || (activityId && job.elementId !== activityId) || (incidentId && job.id !== incidentId)) continue;
        result.push(incidentDto({ ...job, incident: job.incident }, record.id, definitionId));
      }
    }
    return result;
  };

  router.get('/incident', async (ctx) => send(ctx, slice(await incidents(ctx), window(ctx))));
  router.get('/incident/count', async (ctx) => send(ctx, { count: (await incidents(ctx)).length }));
}
