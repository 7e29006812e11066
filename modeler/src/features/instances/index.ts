import { api, query } from '../../app/api.ts';
import { h, replace, when } from '../../app/dom.ts';
import type { Page } from '../../app/router.ts';
import { InstanceView } from './InstanceView.ts';

interface InstanceRow {
  id: string;
  processKey: string;
  processVersion: number;
  processName: string;
  businessKey: string | null;
  status: string;
  startedAt: string;
  endedAt: string | null;
  incidents: unknown[];
}

const PAGE_SIZE = 20;
const STATUSES = ['running', 'completed', 'failed', 'cancelled'];

/** /instances: filters (process, status, business key, started between) and pages of 20. */
export const instancesPage: Page = async ({ main, navigate }) => {
  document.title = 'Instances · Baton';
  const params = new URLSearchParams(location.search);
  const get = (name: string): string => params.get(name) ?? '';
  const offset = Math.max(0, Number(get('offset')) || 0);
  const processes = await api.get<{ key: string; name: string }[]>('/api/processes').catch(() => []);

  const process = h('select', { id: 'f-process', name: 'processKey' }, h('option', { value: '' }, 'All'), processes.map((p) => h('option', { value: p.key, selected: p.key === get('processKey') }, p.name || p.key)));
  const status = h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, 'Any'), STATUSES.map((s) => h('option', { value: s, selected: s === get('status') }, s)));
  const businessKey = h('input', { id: 'f-businessKey', name: 'businessKey', value: get('businessKey') });
  const from = h('input', { id: 'f-from', name: 'startedFrom', type: 'datetime-local', value: get('startedFrom') });
  const to = h('input', { id: 'f-to', name: 'startedTo', type: 'datetime-local', value: get('startedTo') });
  const field = (id: string, label: string, input: HTMLElement): HTMLElement => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const filters = h(
    'form',
    { class: 'filters', role: 'search' },
    field('f-process', 'Process', process),
    field('f-status', 'Status', status),
    field('f-businessKey', 'Business key', businessKey),
    field('f-from', 'Started from', from),
    field('f-to', 'Started until', to),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const filterValues = {
    processKey: process.value,
    status: status.value,
    businessKey: businessKey.value.trim(),
    startedFrom: from.value,
    startedTo: to.value,
  };
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(`/instances${query({ processKey: process.value, status: status.value, businessKey: businessKey.value.trim(), startedFrom: from.value, startedTo: to.value })}`);
  });

  const toIso = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);
  const page = await api.get<{ items: InstanceRow[]; total: number }>(
    `/api/web/instances${query({ ...filterValues, startedFrom: toIso(filterValues.startedFrom), startedTo: toIso(filterValues.startedTo), offset, limit: PAGE_SIZE })}`,
  );
  const pageLink = (to: number, text: string): HTMLElement => h('a', { href: `/instances${query({ ...filterValues, offset: to })}`, class: 'button' }, text);
  replace(
    main,
    h('h1', {}, 'Instances'),
    filters,
    page.items.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('caption', { class: 'muted' }, `${page.total} instance(s)`),
            h('thead', {}, h('tr', {}, ['Instance', 'Process', 'Status', 'Started', 'Ended'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              page.items.map((item) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `/instances/${item.id}` }, item.businessKey || item.id.slice(0, 8))),
                  h('td', {}, `${item.processName || item.processKey} v${item.processVersion}`),
                  h('td', {}, h('span', { class: `status status-${item.status}` }, item.status), item.incidents.length ? h('span', { class: 'status status-failed' }, `${item.incidents.length} incident(s)`) : null),
                  h('td', {}, when(item.startedAt)),
                  h('td', {}, when(item.endedAt)),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'No instance matches.'),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      offset > 0 ? pageLink(Math.max(0, offset - PAGE_SIZE), 'Newer') : null,
      page.total ? h('span', { class: 'muted' }, `${offset + 1}–${Math.min(offset + PAGE_SIZE, page.total)} of ${page.total}`) : null,
      offset + PAGE_SIZE < page.total ? pageLink(offset + PAGE_SIZE, 'Older') : null,
    ),
  );
};

/** /instances/<id>: the instance on its diagram, incidents, tasks, variables and history, live. */
export const instancePage: Page = async ({ main, me, params }) => {
  const view = new InstanceView(params[0] ?? '', me);
  await view.open(main);
  return () => view.close();
};
