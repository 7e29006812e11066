import { api, type Me } from '../../app/api.ts';
import { h, replace, show, when } from '../../app/dom.ts';
import { annotateInstance, type ElementRun, type HistoryEvent } from '../diagram/annotate.ts';
import { Diagram } from '../diagram/Diagram.ts';

interface Instance {
  id: string;
  processKey: string;
  processVersion: number;
  processName: string;
  businessKey: string | null;
  status: string;
  variables: Record<string, unknown>;
  startedAt: string;
  startedBy: string;
  endedAt: string | null;
  error: string | null;
  tasks: { id: string; name: string; assignee: string | null; candidateGroups: string[] }[];
  incidents: { id: string; elementId: string; elementName: string; message: string; createdAt: string }[];
  elements?: ElementRun[];
}

/**
 * The instance view: the diagram marked from the instance's state and history, its incidents
 * (retry), open tasks, variables and history timeline, and cancel. It follows the instance live
 * through server-sent events and redraws without reloading the page.
 */
export class InstanceView {
  private diagram: Diagram | null = null;
  private events: EventSource | null = null;
  private readonly details = h('div', { class: 'instance-details' });
  private readonly head = h('div', { class: 'page-head' });
  private readonly live = h('span', { class: 'live muted', 'aria-live': 'polite' });
  private readonly message = h('p', { class: 'error', role: 'alert' });
  private refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly id: string,
    private readonly me: Me,
  ) {}

  async open(main: HTMLElement): Promise<void> {
    const [instance, history] = await this.load();
    document.title = `${instance.processName || instance.processKey} ${instance.businessKey ?? ''} · Baton`;
    this.diagram = new Diagram(`Diagram of instance ${instance.id}`);
    replace(main, this.head, this.message, this.diagram.element, this.details);
    this.render(instance, history);
    await this.diagram.show(await api.get<string>(`/api/processes/${encodeURIComponent(instance.processKey)}/xml?version=${instance.processVersion}`));
    annotateInstance(this.diagram, instance, history);
    this.diagram.element.dataset.revisionShown = 'true';
    this.follow();
  }

  close(): void {
    this.events?.close();
    this.diagram?.destroy();
  }

  private load(): Promise<[Instance, HistoryEvent[]]> {
    return Promise.all([api.get<Instance>(`/api/instances/${encodeURIComponent(this.id)}`), api.get<HistoryEvent[]>(`/api/instances/${encodeURIComponent(this.id)}/history`)]);
  }

  private follow(): void {
    this.events = new EventSource(`/api/web/instances/${encodeURIComponent(this.id)}/events`);
    // (re)connected: whatever changed since the page loaded or the connection dropped is fetched once
    this.events.addEventListener('ready', () => {
      replace(this.live, '● live');
      this.refresh();
    });
    this.events.addEventListener('change', () => this.refresh());
    this.events.addEventListener('error', () => replace(this.live, '○ reconnecting…'));
  }

  /** Reloads the instance and redraws; refreshes never overlap. */
  private refresh(): void {
    this.refreshing = this.refreshing.then(async () => {
      try {
        const [instance, history] = await this.load();
        this.render(instance, history);
        if (this.diagram) annotateInstance(this.diagram, instance, history);
      } catch (err) {
        replace(this.message, (err as Error).message);
      }
    });
  }

  private async act(work: () => Promise<unknown>): Promise<void> {
    replace(this.message);
    try {
      await work();
      this.refresh();
    } catch (err) {
      replace(this.message, (err as Error).message);
    }
  }

  private render(instance: Instance, history: HistoryEvent[]): void {
    const running = instance.status === 'running';
    replace(
      this.head,
      h('h1', {}, `${instance.processName || instance.processKey}${instance.businessKey ? ` · ${instance.businessKey}` : ''}`),
      h(
        'div',
        { class: 'actions' },
        h('span', { class: `status status-${instance.status}`, 'data-testid': 'instance-status' }, instance.status),
        this.live,
        h('a', { href: `/processes/${encodeURIComponent(instance.processKey)}?version=${instance.processVersion}`, class: 'button' }, `${instance.processKey} v${instance.processVersion}`),
        running && this.me.may.cancel
          ? h('button', { type: 'button', class: 'danger', onclick: () => this.act(() => api.post(`/api/instances/${encodeURIComponent(instance.id)}/cancel`)) }, 'Cancel instance')
          : null,
      ),
    );
    replace(
      this.details,
      h('p', { class: 'muted' }, `Started ${when(instance.startedAt)} by ${instance.startedBy}`, instance.endedAt ? ` · ended ${when(instance.endedAt)}` : '', ` · id ${instance.id}`),
      instance.error ? h('p', { class: 'error' }, instance.error) : null,
      instance.incidents.length
        ? h(
            'section',
            { class: 'card incidents', 'aria-labelledby': 'incidents-title' },
            h('h2', { id: 'incidents-title' }, 'Incidents'),
            h(
              'ul',
              {},
              instance.incidents.map((incident) =>
                h(
                  'li',
                  { class: 'incident' },
                  h('strong', {}, incident.elementName || incident.elementId),
                  h('span', { class: 'incident-message' }, ` ${incident.message} `),
                  h('span', { class: 'muted' }, when(incident.createdAt)),
                  this.me.may.retry ? h('button', { type: 'button', onclick: () => this.act(() => api.post(`/api/incidents/${encodeURIComponent(incident.id)}/retry`)) }, `Retry ${incident.elementName || incident.elementId}`) : null,
                ),
              ),
            ),
          )
        : null,
      instance.tasks.length
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'tasks-title' },
            h('h2', { id: 'tasks-title' }, 'Open tasks'),
            h('ul', {}, instance.tasks.map((task) => h('li', {}, h('a', { href: `/tasks/${task.id}` }, task.name), h('span', { class: 'muted' }, task.assignee ? ` assigned to ${task.assignee}` : ` for ${task.candidateGroups.join(', ') || 'anyone'}`)))),
          )
        : null,
      h('div', { class: 'columns' }, this.variables(instance.variables), this.timeline(history)),
    );
  }

  private variables(variables: Record<string, unknown>): HTMLElement {
    const names = Object.keys(variables).sort();
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'variables-title' },
      h('h2', { id: 'variables-title' }, 'Variables'),
      names.length
        ? h('table', { class: 'variables' }, h('tbody', {}, names.map((name) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, h('code', {}, show(variables[name]))))))) 
        : h('p', { class: 'muted' }, 'none'),
    );
  }

  private timeline(history: HistoryEvent[]): HTMLElement {
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, 'History'),
      h(
        'ol',
        { class: 'timeline' },
        history
          .filter((event) => event.type !== 'flow.taken')
          .map((event) =>
            h(
              'li',
              { class: `event event-${event.type.replace(/\W/g, '-')}` },
              h('time', { datetime: event.at }, new Date(event.at).toLocaleTimeString()),
              h('span', { class: 'event-type' }, ` ${event.type}`),
              event.elementName || event.elementId ? h('span', {}, ` ${event.elementName ?? event.elementId}`) : null,
              event.user ? h('span', { class: 'muted' }, ` by ${event.user}`) : null,
              typeof event.data?.message === 'string' ? h('span', { class: 'event-message' }, ` ${event.data.message}`) : null,
            ),
          ),
      ),
    );
  }
}
