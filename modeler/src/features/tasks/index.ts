import { api, ApiError, type Me } from '../../app/api.ts';
import { generateForm, type FormField } from '../../app/form.ts';
import { h, replace, when } from '../../app/dom.ts';
import type { Page } from '../../app/router.ts';
import { annotateInstance, type ElementRun, type HistoryEvent } from '../diagram/annotate.ts';
import { Diagram } from '../diagram/Diagram.ts';

interface Task {
  id: string;
  elementId: string;
  name: string;
  assignee: string | null;
  candidateUsers: string[];
  candidateGroups: string[];
  formFields: FormField[];
  createdAt: string;
  instanceId: string;
  processKey: string;
  businessKey: string | null;
}

const who = (task: Task): string =>
  task.assignee ? `assigned to ${task.assignee}` : `for ${[...task.candidateGroups.map((g) => `group ${g}`), ...task.candidateUsers].join(', ') || 'anyone'}`;

/** /tasks: the signed-in user's tasks and their groups' tasks, oldest first. */
export const tasksPage: Page = async ({ main }) => {
  document.title = 'Tasks · Baton';
  const page = await api.get<{ items: Task[]; total: number }>('/api/tasks?limit=200');
  replace(
    main,
    h('h1', {}, 'Tasks'),
    page.items.length
      ? h(
          'ul',
          { class: 'cards task-list' },
          page.items.map((task) =>
            h(
              'li',
              { class: 'card' },
              h('a', { href: `/tasks/${task.id}`, class: 'card-title' }, task.name),
              h('p', { class: 'muted' }, `${task.processKey}${task.businessKey ? ` · ${task.businessKey}` : ''} · ${who(task)} · since ${when(task.createdAt)}`),
            ),
          ),
        )
      : h('p', {}, 'No task waits for you or your groups.'),
  );
};

/** /tasks/<id>: claim or give back, the generated form with the server's messages per field, complete; the instance's diagram with the task highlighted. */
export const taskPage: Page = async ({ main, me, params, navigate }) => {
  let task: Task;
  try {
    task = await api.get<Task>(`/api/tasks/${encodeURIComponent(params[0] ?? '')}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      replace(main, h('h1', {}, 'Task done'), h('p', {}, 'This task is no longer open.'), h('a', { href: '/tasks' }, 'Back to the tasks'));
      return;
    }
    throw err;
  }
  document.title = `${task.name} · Baton`;
  const message = h('p', { class: 'error', role: 'alert' });
  const form = generateForm(task.formFields, 'task');
  const actions = h('div', { class: 'actions' });
  const mine = task.assignee === me.name;
  const claim = async (path: string): Promise<void> => {
    try {
      await api.post(`/api/tasks/${task.id}/${path}`);
      navigate(`/tasks/${task.id}`);
    } catch (err) {
      replace(message, (err as Error).message);
    }
  };
  if (!task.assignee) append(actions, h('button', { type: 'button', onclick: () => claim('claim') }, 'Claim'));
  if (mine) append(actions, h('button', { type: 'button', onclick: () => claim('unclaim') }, 'Give back'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Complete');
  const element = h(
    'form',
    { class: 'card task-form', novalidate: true, 'aria-labelledby': 'task-form-title' },
    h('h2', { id: 'task-form-title' }, 'Form'),
    form.element,
    message,
    submit,
  );
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    submit.disabled = true;
    try {
      await api.post(`/api/tasks/${task.id}/complete`, { variables: form.values() });
      replace(main, h('h1', {}, 'Task completed'), h('p', { role: 'status' }, `${task.name} is done.`), h('p', {}, h('a', { href: '/tasks' }, 'Back to the tasks'), ' · ', h('a', { href: `/instances/${task.instanceId}` }, 'Watch the instance')));
    } catch (err) {
      const rest = err instanceof ApiError ? form.showProblems(err.problems) : [];
      replace(message, err instanceof ApiError && err.problems.length && !rest.length ? 'Please correct the fields marked.' : [(err as Error).message, ...rest.map((p) => ` ${p.message}`)].join(''));
    } finally {
      submit.disabled = false;
    }
  });
  const diagram = new Diagram(`Diagram of the instance, with ${task.name} highlighted`);
  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, task.name), actions),
    h('p', { class: 'muted' }, `${task.processKey}${task.businessKey ? ` · ${task.businessKey}` : ''} · ${who(task)} · since ${when(task.createdAt)} · `, h('a', { href: `/instances/${task.instanceId}` }, 'instance')),
    h('div', { class: 'columns task-columns' }, element, h('section', { class: 'card', 'aria-label': 'Diagram' }, diagram.element)),
  );
  void showInstance(diagram, task, me);
  return () => diagram.destroy();
};

function append(parent: HTMLElement, child: HTMLElement): void {
  parent.appendChild(child);
}

async function showInstance(diagram: Diagram, task: Task, me: Me): Promise<void> {
  try {
    const [instance, history] = await Promise.all([
      api.get<{ processVersion: number; elements?: ElementRun[]; incidents: { id: string; elementId: string; message: string }[] }>(`/api/instances/${task.instanceId}`),
      api.get<HistoryEvent[]>(`/api/instances/${task.instanceId}/history`),
    ]);
    await diagram.show(await api.get<string>(`/api/processes/${encodeURIComponent(task.processKey)}/xml?version=${instance.processVersion}`));
    annotateInstance(diagram, instance, history);
    diagram.mark(task.elementId, 'baton-selected');
  } catch {
    diagram.element.append(`The diagram is not available to ${me.name}.`);
  }
}
