import type { User } from '../auth/users.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import { hasRole } from '../http/auth.ts';
import type { Executor } from '../instances/executor.ts';
import type { InstanceRecord, Page, Store, TaskView, UserTask } from '../store/types.ts';

export interface TaskService {
  /** Open tasks the user may work on, filtered; admins and operators may list anyone's. */
  list(filter: { assignee?: string; candidateGroup?: string; instanceId?: string; offset: number; limit: number }, user: User): Promise<Page<TaskView>>;
  get(taskId: string, user: User): Promise<TaskView>;
  claim(taskId: string, user: User): Promise<TaskView>;
  unclaim(taskId: string, user: User): Promise<TaskView>;
  /** Completes a task with form values; 409 when it is no longer open. */
  complete(taskId: string, variables: unknown, user: User): Promise<void>;
}

/** True when the user is the assignee or, for an unassigned task, a candidate. */
export function mayWork(task: UserTask, user: User): boolean {
  if (task.assignee) return task.assignee === user.name;
  return task.candidateUsers.includes(user.name) || task.candidateGroups.some((group) => user.groups.includes(group));
}

const view = (record: InstanceRecord, task: UserTask): TaskView => ({
  ...task,
  instanceId: record.id,
  processKey: record.processKey,
  businessKey: record.businessKey,
});

export function createTaskService(store: Store, executor: Executor): TaskService {
  const find = async (taskId: string, user: User): Promise<InstanceRecord> => {
    const record = await store.findInstanceByTask(taskId);
    const task = record?.userTasks.find((t) => t.id === taskId);
    if (!record) throw new NotFoundError('task', taskId);
    if (!task || record.status !== 'running') throw new ConflictError(`task <${taskId}> is no longer open`);
    if (!mayWork(task, user) && !hasRole(user, 'admin', 'operator')) throw new ForbiddenError(`task <${taskId}> is not yours or your groups'`);
    return record;
  };

  /** re-reads the task inside a transition: it may have been completed meanwhile */
  const openTask = (record: InstanceRecord, taskId: string): UserTask => {
    const task = record.userTasks.find((t) => t.id === taskId);
    if (!task || record.status !== 'running') throw new ConflictError(`task <${taskId}> is no longer open`);
    return task;
  };

  return {
    async list(filter, user) {
      const everyone = hasRole(user, 'admin', 'operator');
      const query = { instanceId: filter.instanceId, offset: filter.offset, limit: filter.limit } as Parameters<Store['findTasks']>[0];
      if (everyone) {
        if (filter.assignee) query.assignee = filter.assignee;
        if (filter.candidateGroup) query.candidateGroups = [filter.candidateGroup];
      } else if (filter.assignee || filter.candidateGroup) {
        if (filter.assignee && filter.assignee !== user.name) throw new ForbiddenError('you may list only your own tasks');
        if (filter.candidateGroup && !user.groups.includes(filter.candidateGroup)) throw new ForbiddenError(`you are not in group ${filter.candidateGroup}`);
        if (filter.assignee) query.assignee = filter.assignee;
        if (filter.candidateGroup) query.candidateGroups = [filter.candidateGroup];
      } else {
        query.assignee = user.name;
        query.candidateGroups = user.groups;
        query.candidateUser = user.name;
      }
      const page = await store.findTasks(query);
      return everyone ? page : { ...page, items: page.items.filter((task) => mayWork(task, user) || task.assignee === user.name) };
    },

    async get(taskId, user) {
      const record = await find(taskId, user);
      return view(record, record.userTasks.find((t) => t.id === taskId) as UserTask);
    },

    async claim(taskId, user) {
      const record = await find(taskId, user);
      return executor.transition(record.id, (fresh) => {
        const task = openTask(fresh, taskId);
        if (task.assignee && task.assignee !== user.name) throw new ConflictError(`task <${taskId}> is claimed by ${task.assignee}`);
        if (!mayWork(task, user)) throw new ForbiddenError(`you are not a candidate for task <${taskId}>`);
        return {
          events: [{ type: 'task.claimed', elementId: task.elementId, executionId: task.executionId, user: user.name, data: { taskId } }],
          change: () => (task.assignee = user.name),
          result: (saved) => view(saved, task),
        };
      });
    },

    async unclaim(taskId, user) {
      const record = await find(taskId, user);
      return executor.transition(record.id, (fresh) => {
        const task = openTask(fresh, taskId);
        if (task.assignee !== user.name && !hasRole(user, 'admin', 'operator')) throw new ForbiddenError(`task <${taskId}> is not yours`);
        return {
          events: [{ type: 'task.unclaimed', elementId: task.elementId, executionId: task.executionId, user: user.name, data: { taskId } }],
          change: () => (task.assignee = null),
          result: (saved) => view(saved, task),
        };
      });
    },

    async complete(taskId, variables, user) {
      const record = await find(taskId, user);
      const task = record.userTasks.find((t) => t.id === taskId) as UserTask;
      if (!mayWork(task, user)) throw new ForbiddenError(`only the assignee or a candidate completes task <${taskId}>`);
      const values = validateForm(task.formFields, variables, executor.limits);
      await executor.transition(record.id, (fresh) => {
        const open = openTask(fresh, taskId);
        if (!mayWork(open, user)) throw new ForbiddenError(`only the assignee or a candidate completes task <${taskId}>`);
        return {
          events: [{ type: 'task.completed', elementId: open.elementId, elementName: open.name, executionId: open.executionId, user: user.name, data: { taskId, variables: values } }],
          action: { type: 'completeTask', executionId: open.executionId, variables: values },
          result: () => undefined,
        };
      });
    },
  };
}
