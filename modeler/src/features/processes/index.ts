import { api, ApiError, query } from '../../app/api.ts';
import { generateForm, type FormField } from '../../app/form.ts';
import { h, replace, when } from '../../app/dom.ts';
import type { Page } from '../../app/router.ts';
import { annotateStats, type VersionStats } from '../diagram/annotate.ts';
import { Diagram } from '../diagram/Diagram.ts';

interface ProcessSummary {
  key: string;
  version: number;
  name: string;
  deployedAt: string;
  startForm: FormField[];
  executable?: boolean;
  notExecuted?: { path?: string; message: string }[];
  versions?: number;
}

/** /processes: every deployed process, newest version, with a link to its page. */
export const processesPage: Page = async ({ main }) => {
  document.title = 'Processes · Baton';
  const processes = await api.get<ProcessSummary[]>('/api/processes');
  replace(
    main,
    h('h1', {}, 'Processes'),
    processes.length
      ? h(
          'ul',
          { class: 'cards' },
          processes.map((process) =>
            h(
              'li',
              { class: 'card' },
              h('a', { href: `/processes/${encodeURIComponent(process.key)}`, class: 'card-title' }, process.name || process.key),
              h('p', { class: 'muted' }, `${process.key} · version ${process.version}${process.versions ? ` of ${process.versions}` : ''} · deployed ${when(process.deployedAt)}`),
            ),
          ),
        )
      : h('p', {}, 'No process is deployed yet.'),
  );
};

/** /processes/<key>?version=: the versions, the diagram with active/incident badges and heat, and the start form. */
export const processPage: Page = async ({ main, me, params, navigate }) => {
  const key = params[0] ?? '';
  const { versions } = await api.get<{ versions: ProcessSummary[] }>(`/api/processes/${encodeURIComponent(key)}`);
  const wanted = Number(new URLSearchParams(location.search).get('version'));
  const chosen = versions.find((v) => v.version === wanted) ?? versions[0];
  if (!chosen) throw new Error(`process ${key} has no version`);
  document.title = `${chosen.name || key} · Baton`;

  const picker = h(
    'select',
    { id: 'version', onchange: () => navigate(`/processes/${encodeURIComponent(key)}?version=${picker.value}`) },
    versions.map((v) => h('option', { value: v.version, selected: v.version === chosen.version }, `version ${v.version} · ${when(v.deployedAt)}`)),
  );
  const diagram = new Diagram(`Diagram of ${chosen.name || key}, version ${chosen.version}`);
  const figures = h('p', { class: 'muted', 'aria-live': 'polite' });
  const legend = h(
    'p',
    { class: 'legend' },
    h('span', { class: 'baton-badge baton-badge-active' }, 'n'),
    ' instances active there  ',
    h('span', { class: 'baton-badge baton-badge-incident' }, 'n'),
    ' open incidents  ',
    h('span', { class: 'heat-scale' }, 'heat'),
    ' how often each element ran',
  );

  replace(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, chosen.name || key),
      h(
        'div',
        { class: 'actions' },
        h('label', { for: 'version' }, 'Version '),
        picker,
        h('a', { href: `/instances${query({ processKey: key })}`, class: 'button' }, 'Instances'),
        me.may.deploy ? h('a', { href: `/modeler${query({ process: key, version: chosen.version })}`, class: 'button' }, 'Open in modeler') : null,
      ),
    ),
    diagram.element,
    me.may.processStats ? [legend, figures] : null,
    chosen.notExecuted?.length ? h('div', { class: 'notice' }, h('p', {}, 'Baton does not run this process:'), h('ul', {}, chosen.notExecuted.map((p) => h('li', {}, p.message)))) : null,
    me.may.start && chosen.executable !== false && chosen.version === versions[0]?.version ? startForm(key, chosen.startForm, navigate) : null,
  );
  await diagram.show(await api.get<string>(`/api/processes/${encodeURIComponent(key)}/xml?version=${chosen.version}`));
  if (me.may.processStats) {
    const stats = await api.get<VersionStats>(`/api/web/processes/${encodeURIComponent(key)}/stats?version=${chosen.version}`);
    annotateStats(diagram, stats);
    replace(figures, `${stats.running} running instance(s) of this version; heat from the ${stats.sampled} newest.`);
  }
  return () => diagram.destroy();
};

function startForm(key: string, fields: FormField[], navigate: (url: string) => void): HTMLElement {
  const form = generateForm(fields, 'start');
  const businessKey = h('input', { id: 'start-businessKey', name: 'businessKey' });
  const message = h('p', { class: 'error', role: 'alert' });
  const element = h(
    'form',
    { class: 'card start-form', novalidate: true, 'aria-labelledby': 'start-title' },
    h('h2', { id: 'start-title' }, 'Start an instance'),
    form.element,
    h('div', { class: 'field' }, h('label', { for: 'start-businessKey' }, 'Business key (optional)'), businessKey),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Start'),
  );
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    try {
      const instance = await api.post<{ id: string }>(`/api/processes/${encodeURIComponent(key)}/instances`, {
        variables: form.values(),
        ...(businessKey.value.trim() ? { businessKey: businessKey.value.trim() } : {}),
      });
      navigate(`/instances/${instance.id}`);
    } catch (err) {
      const rest = err instanceof ApiError ? form.showProblems(err.problems) : [];
      replace(message, err instanceof ApiError && err.problems.length && !rest.length ? 'Please correct the fields marked.' : [(err as Error).message, ...rest.map((p) => ` ${p.message}`)].join(''));
    }
  });
  return element;
}
