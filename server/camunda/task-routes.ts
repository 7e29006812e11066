/**
 * User tasks the Camunda way: list, get, claim, unclaim, complete, submit-form and the form's
 * variables. Completion still goes through Baton's task service, so a task's form decides which
 * variables it takes, and who may complete it.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BatonError, ConflictError, NotFoundError, RevisionConflictError } from '../errors.ts';
import { currentUser } from '../http/auth.ts';
import { jsonBody, optionalString } from '../http/body.ts';
import type { TaskView, Variables } from '../store/types.ts';
import { taskDto } from './dto.ts';
import { CamundaError, fromBatonError, reworded } from './errors.ts';
import { bodyFlag, collect, flag, list, needed, noContent, param, send, slice, window } from './http.ts';
import type { Wiring } from './routes.ts';
import { formFieldValue, fromTypedMap, toTypedMap, type TypedValue } from './variables.ts';

/** True for Baton's "this task is gone" errors: never existed, or no longer open. */
const gone = (error: BatonError): boolean => error instanceof NotFoundError || (error instanceof ConflictError && !(error instanceof RevisionConflictError));

/** Registers the /task endpoints. */
export function taskEndpoints(router: Router, { tasks, store, lookup }: Wiring): void {
  /** open tasks matching Camunda's query parameters, oldest first */
  const query = async (ctx: Context, need = Number.POSITIVE_INFINITY): Promise<TaskView[]> => {
    const user = currentUser(ctx);
    const instanceId = param(ctx, 'processInstanceId');
    const assignee = param(ctx, 'assignee');
    const candidateGroup = param(ctx, 'candidateGroup');
    const candidateUser = param(ctx, 'candidateUser');
    const keys = [param(ctx, 'taskDefinitionKey'), ...(list(ctx, 'taskDefinitionKeyIn') ?? [])].filter(Boolean);
    const processKey = param(ctx, 'processDefinitionKey');
    const businessKey = param(ctx, 'processInstanceBusinessKey');
    const name = param(ctx, 'name');
    const unassigned = flag(ctx, 'unassigned');
    const assigned = flag(ctx, 'assigned');
    if (candidateUser && candidateUser !== user.name) {
      throw new CamundaError(403, 'AuthorizationException', 'Baton answers candidateUser for the signed-in user only', { userId: user.name });
    }
    const mine = (task: TaskView): boolean => task.candidateUsers.includes(user.name) || task.candidateGroups.some((g) => user.groups.includes(g));
    return collect(
      (offset, limit) =>
        tasks.list({ ...(assignee ? { assignee } : {}), ...(candidateGroup ? { candidateGroup } : {}), ...(instanceId ? { instanceId } : {}), offset, limit }, user),
      (task) =>
        (!keys.length || keys.includes(task.elementId)) &&
        (!processKey || task.processKey === processKey) &&
        (!businessKey || task.businessKey === businessKey) &&
        (!name || task.name === name) &&
        (!unassigned || !task.assignee) &&
        (!assigned || !!task.assignee) &&
        (!candidateUser || (!task.assignee && mine(task))),
      need,
    );
  };

  const one = (ctx: Context): Promise<TaskView> => {
    const id = ctx.params.id as string;
    return reworded(tasks.get(id, currentUser(ctx)), (error) =>
      gone(error) ? new CamundaError(404, 'InvalidRequestException', `No matching task with id ${id}`) : undefined,
    );
  };

  router.get('/task', async (ctx) => {
    const win = window(ctx);
    const found = slice(await query(ctx, needed(win)), win);
    send(ctx, await Promise.all(found.map(async (task) => taskDto(task, await lookup.ofInstanceId(task.instanceId)))));
  });
  router.get('/task/count', async (ctx) => send(ctx, { count: (await query(ctx)).length }));

  router.get('/task/:id', async (ctx) => {
    const task = await one(ctx);
    send(ctx, taskDto(task, await lookup.ofInstanceId(task.instanceId)));
  });

  router.post('/task/:id/claim', async (ctx) => {
    const id = ctx.params.id as string;
    const user = currentUser(ctx);
    const userId = optionalString(jsonBody(ctx), 'userId', 64) ?? user.name;
    if (userId !== user.name) {
      throw new CamundaError(403, 'AuthorizationException', `Baton lets users claim tasks for themselves only, not for '${userId}'`, { userId: user.name });
    }
    const claimed = new CamundaError(500, 'TaskAlreadyClaimedException', `Task '${id}' is already claimed by someone else.`);
    const task = await reworded(tasks.get(id, user), (error) =>
      gone(error) ? new CamundaError(500, 'NullValueException', `Cannot find task with id ${id}: task is null`) : undefined,
    );
    if (task.assignee && task.assignee !== user.name) throw claimed;
    await reworded(tasks.claim(id, user), (error) => (error instanceof ConflictError && !(error instanceof RevisionConflictError) ? claimed : undefined));
    noContent(ctx);
  });

  router.post('/task/:id/unclaim', async (ctx) => {
    await one(ctx);
    await tasks.unclaim(ctx.params.id as string, currentUser(ctx));
    noContent(ctx);
  });

  /** complete and submit-form: Camunda words their errors "Cannot complete task <id>: ..." */
  const finish = (verb: string) => async (ctx: Context) => {
    const id = ctx.params.id as string;
    const body = jsonBody(ctx);
    const prefix = `Cannot ${verb} ${id}: `;
    const reword = (error: BatonError): CamundaError | undefined => {
      if (gone(error)) return new CamundaError(500, 'RestException', prefix + error.message);
      const mapped = fromBatonError(error, currentUser(ctx).name);
      return mapped.status === 400 ? new CamundaError(400, mapped.type, prefix + mapped.message) : undefined;
    };
    let variables: Variables;
    try {
      variables = fromTypedMap(body.variables);
    } catch (err) {
      throw err instanceof BatonError ? (reword(err) ?? err) : err;
    }
    const instanceId = (await store.findInstanceByTask(id))?.id;
    await reworded(tasks.complete(id, variables, currentUser(ctx)), reword);
    if (!bodyFlag(body, 'withVariablesInReturn')) return noContent(ctx);
    const record = instanceId ? await store.getInstance(instanceId) : null;
    send(ctx, toTypedMap(record?.variables ?? {}));
  };
  router.post('/task/:id/complete', finish('complete task'));
  router.post('/task/:id/submit-form', finish('submit task form'));

  router.get('/task/:id/form-variables', async (ctx) => {
    const task = await one(ctx);
    const names = list(ctx, 'variableNames');
    const variables = (await store.getInstance(task.instanceId))?.variables ?? {};
    const result: Record<string, TypedValue> = toTypedMap(variables, names);
    for (const field of task.formFields) if (!names || names.includes(field.id)) result[field.id] = formFieldValue(field, variables[field.id]);
    send(ctx, result);
  });

  router.get('/task/:id/variables', async (ctx) => {
    const task = await one(ctx);
    send(ctx, toTypedMap((await store.getInstance(task.instanceId))?.variables ?? {}, list(ctx, 'variableNames')));
  });
}
