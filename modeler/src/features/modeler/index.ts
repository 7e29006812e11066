import { api, ApiError, query } from '../../app/api.ts';
import { h, replace } from '../../app/dom.ts';
import type { Page } from '../../app/router.ts';
import { BpmnEditor, NEW_DIAGRAM } from './BpmnEditor.ts';

interface DeploymentResult {
  id: string;
  processes: { key: string; version: number; name: string }[];
  warnings?: { path?: string; message: string }[];
}

/** /modeler?process=&version=: model, open a deployed version or a local file, save to disk, deploy. */
export const modelerPage: Page = async ({ main, me }) => {
  document.title = 'Modeler · Baton';
  const editor = new BpmnEditor();
  const status = h('div', { class: 'modeler-status', role: 'status', 'aria-live': 'polite' });
  const say = (kind: 'ok' | 'error', text: string, extra: (HTMLElement | string)[] = []): void => replace(status, h('p', { class: kind === 'error' ? 'error' : 'ok' }, text), ...extra);

  const processes = await api.get<{ key: string; name: string; version: number }[]>('/api/processes');
  const deployed = h(
    'select',
    { id: 'open-deployed' },
    h('option', { value: '' }, 'Open deployed…'),
    processes.flatMap((p) => Array.from({ length: p.version }, (_, i) => p.version - i).map((v) => h('option', { value: `${p.key}@${v}` }, `${p.name || p.key} v${v}`))),
  );
  const file = h('input', { type: 'file', id: 'open-file', accept: '.bpmn,.xml,application/xml', class: 'visually-hidden' });
  const openDeployed = async (key: string, version: number): Promise<void> => {
    await editor.open(await api.get<string>(`/api/processes/${encodeURIComponent(key)}/xml${query({ version })}`));
    say('ok', `Opened ${key} version ${version}.`);
  };
  deployed.addEventListener('change', async () => {
    const [key = '', version = ''] = deployed.value.split('@');
    deployed.value = '';
    if (key) await openDeployed(key, Number(version)).catch((err: Error) => say('error', err.message));
  });
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (!chosen) return;
    try {
      const warnings = await editor.open(await chosen.text());
      say('ok', `Opened ${chosen.name}.`, warnings.map((w) => h('p', { class: 'muted' }, w)));
    } catch (err) {
      say('error', `${chosen.name} is not a BPMN diagram: ${(err as Error).message}`);
    }
  });
  const save = async (): Promise<void> => {
    const url = URL.createObjectURL(new Blob([await editor.xml()], { type: 'application/xml' }));
    const link = h('a', { href: url, download: `${editor.processId()}.bpmn` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const deploy = async (): Promise<void> => {
    editor.clearProblems();
    const body = new FormData();
    body.append('file', new Blob([await editor.xml()], { type: 'application/xml' }), `${editor.processId()}.bpmn`);
    try {
      const result = await api.post<DeploymentResult>('/api/deployments', body);
      say(
        'ok',
        'Deployed.',
        result.processes.map((p) => h('p', {}, h('a', { href: `/processes/${encodeURIComponent(p.key)}?version=${p.version}` }, `${p.name || p.key} version ${p.version}`))),
      );
      editor.showProblems(result.warnings ?? []);
    } catch (err) {
      const problems = err instanceof ApiError ? err.problems : [];
      const elsewhere = editor.showProblems(problems);
      say('error', `Not deployed: ${(err as Error).message}`, [
        ...(problems.length - elsewhere.length ? [h('p', {}, `${problems.length - elsewhere.length} problem(s) are marked on the diagram.`)] : []),
        ...(elsewhere.length ? [h('ul', { class: 'problems' }, elsewhere.map((p) => h('li', {}, p.path ? `${p.path}: ${p.message}` : p.message)))] : []),
      ]);
    }
  };

  replace(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Modeler'),
      h(
        'div',
        { class: 'actions toolbar', role: 'toolbar', 'aria-label': 'Diagram' },
        h('button', { type: 'button', onclick: () => editor.open(NEW_DIAGRAM).then(() => say('ok', 'New diagram.')) }, 'New'),
        h('label', { for: 'open-deployed', class: 'visually-hidden' }, 'Open a deployed version'),
        deployed,
        h('label', { for: 'open-file', class: 'button', tabindex: 0, onkeydown: (e: Event) => ['Enter', ' '].includes((e as KeyboardEvent).key) && (e.preventDefault(), file.click()) }, 'Open file…'),
        file,
        h('button', { type: 'button', onclick: save }, 'Save to disk'),
        me.may.deploy ? h('button', { type: 'button', class: 'primary', onclick: deploy }, 'Deploy') : null,
      ),
    ),
    status,
    h('div', { class: 'modeler' }, editor.canvasElement, editor.panelElement),
  );
  const params = new URLSearchParams(location.search);
  const key = params.get('process');
  if (key) await openDeployed(key, Number(params.get('version')) || 1).catch((err: Error) => say('error', err.message));
  else await editor.open(NEW_DIAGRAM);
  return () => editor.destroy();
};
