/**
 * Camunda's history API over Baton's instance records and their event history: historic
 * process instances (running and ended) and the activity instances of one process instance.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError, ValidationError } from '../errors.ts';
import { currentUser } from '../http/auth.ts';
import type { InstanceSummary, InstanceView } from '../instances/service.ts';
import type { InstanceStatus } from '../store/types.ts';
import { parseDefinitionId } from './definitions.ts';
import { activityType, historicActivityDto, historicInstanceDto } from './dto.ts';
import { CamundaError, reworded } from './errors.ts';
import { collect, flag, list, needed, param, send, slice, window } from './http.ts';
import type { Wiring } from './routes.ts';

const ALL: InstanceStatus[] = ['running', 'completed', 'cancelled', 'failed'];

/** The statuses Camunda's state flags allow (all of them given at once must hold). */
function statuses(ctx: Context): InstanceStatus[] {
  let allowed = ALL;
  const only = (kept: InstanceStatus[]): void => {
    allowed = allowed.filter((status) => kept.includes(status));
  };
  if (flag(ctx, 'unfinished') || flag(ctx, 'active')) only(['running']);
  if (flag(ctx, 'finished')) only(['completed', 'cancelled', 'failed']);
  if (flag(ctx, 'completed')) only(['completed']);
  if (flag(ctx, 'externallyTerminated')) only(['cancelled']);
  if (flag(ctx, 'internallyTerminated')) only(['failed']);
  if (flag(ctx, 'suspended')) only([]);
  return allowed;
}

/** Registers /history/process-instance and /history/activity-instance. */
export function historyEndpoints(router: Router, { instances, lookup }: Wiring): void {
  const query = async (ctx: Context, need = Number.POSITIVE_INFINITY): Promise<InstanceSummary[]> => {
    const ids = [param(ctx, 'processInstanceId'), ...(list(ctx, 'processInstanceIds') ?? [])].filter(Boolean);
    const key = param(ctx, 'processDefinitionKey');
    const definition = param(ctx, 'processDefinitionId');
    const parsed = definition ? parseDefinitionId(definition) : null;
    const businessKey = param(ctx, 'processInstanceBusinessKey');
    const startedBy = param(ctx, 'startedBy');
    const allowed = statuses(ctx);
    if (!allowed.length || (definition && !parsed) || (parsed && key && parsed.key !== key)) return [];
    const processKey = parsed?.key ?? key;
    const status = allowed.length === 1 ? allowed[0] : undefined;
    return collect(
      (offset, limit) =>
        instances.list(
          { ...(status ? { status } : {}), ...(processKey ? { processKey } : {}), ...(businessKey ? { businessKey } : {}), offset, limit },
          currentUser(ctx),
        ),
      (view) =>
        allowed.includes(view.status) &&
        (!ids.length || ids.includes(view.id)) &&
        (!parsed || view.processVersion === parsed.version) &&
        (!startedBy || view.startedBy === startedBy),
      need,
    );
  };

  router.get('/history/process-instance', async (ctx) => {
    const win = window(ctx);
    const found = slice(await query(ctx, needed(win)), win);
    send(ctx, await Promise.all(found.map(async (view) => historicInstanceDto(view, await lookup.ofInstance(view)))));
  });
  router.get('/history/process-instance/count', async (ctx) => send(ctx, { count: (await query(ctx)).length }));
  router.get('/history/process-instance/:id', async (ctx) => {
    const id = ctx.params.id as string;
    const view = await reworded(instances.get(id, currentUser(ctx)), (error) =>
      error instanceof NotFoundError ? new CamundaError(404, 'InvalidRequestException', `Historic process instance with id ${id} does not exist`) : undefined,
    );
    send(ctx, historicInstanceDto(view, await lookup.ofInstance(view)));
  });

  /** the activity instances of one process instance, in the order they started */
  const activities = async (ctx: Context) => {
    const id = param(ctx, 'processInstanceId');
    if (!id) throw new ValidationError('Baton answers /history/activity-instance per process instance: give processInstanceId');
    const user = currentUser(ctx);
    let view: InstanceView;
    try {
      view = await instances.get(id, user);
    } catch (error) {
      if (error instanceof NotFoundError) return [];
      throw error;
    }
    const tasks = new Map<string, { taskId: string | null; assignee: string | null }>();
    for (const event of await instances.history(id, user)) {
      if (!event.executionId || !event.type.startsWith('task.')) continue;
      const entry = tasks.get(event.executionId) ?? { taskId: null, assignee: null };
      if (event.type === 'task.created' && typeof event.data?.taskId === 'string') entry.taskId = event.data.taskId;
      if (event.type === 'task.claimed' || event.type === 'task.completed') entry.assignee = event.user ?? entry.assignee;
      if (event.type === 'task.unclaimed') entry.assignee = null;
      tasks.set(event.executionId, entry);
    }
    const definitionId = await lookup.ofInstance(view);
    const activityId = param(ctx, 'activityId');
    const type = param(ctx, 'activityType');
    const executionId = param(ctx, 'executionId');
    const finished = flag(ctx, 'finished');
    const unfinished = flag(ctx, 'unfinished');
    const canceled = flag(ctx, 'canceled');
    const found = (view.elements ?? [])
      .filter(
        (run) =>
          (!activityId || run.id === activityId) &&
          (!type || activityType(run.type) === type) &&
          (!executionId || run.executionId === executionId) &&
          (!finished || run.endedAt !== null) &&
          (!unfinished || run.endedAt === null) &&
          (!canceled || run.status === 'cancelled' || run.status === 'failed'),
      )
      .map((run) => historicActivityDto(run, view, definitionId, tasks.get(run.executionId) ?? { taskId: null, assignee: null }));
    const sortBy = param(ctx, 'sortBy');
    if (sortBy === 'startTime' || sortBy === 'endTime') found.sort((a, b) => String(a[sortBy]).localeCompare(String(b[sortBy])));
    if (param(ctx, 'sortOrder') === 'desc') found.reverse();
    return found;
  };

  router.get('/history/activity-instance', async (ctx) => send(ctx, slice(await activities(ctx), window(ctx))));
  router.get('/history/activity-instance/count', async (ctx) => send(ctx, { count: (await activities(ctx)).length }));
}
