/** The Baton web app: sign-in, processes, instances, tasks and the modeler, one page at a time. */
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/assets/properties-panel.css';
import './styles/app.css';
import { api, ApiError, useSession, whenSignedOut, type Me } from './app/api.ts';
import { h, replace } from './app/dom.ts';
import { layout, sectionsFor } from './app/layout.ts';
import { interceptLinks, match, type Route } from './app/router.ts';
import { instancePage, instancesPage } from './features/instances/index.ts';
import { loginPage } from './features/login/index.ts';
import { modelerPage } from './features/modeler/index.ts';
import { processesPage, processPage } from './features/processes/index.ts';
import { taskPage, tasksPage } from './features/tasks/index.ts';

const ROUTES: Route[] = [
  { pattern: '/processes', page: processesPage },
  { pattern: '/processes/:key', page: processPage },
  { pattern: '/instances', page: instancesPage },
  { pattern: '/instances/:id', page: instancePage },
  { pattern: '/tasks', page: tasksPage, allowed: (me) => me.may.tasks },
  { pattern: '/tasks/:id', page: taskPage, allowed: (me) => me.may.tasks },
  { pattern: '/modeler', page: modelerPage, allowed: (me) => me.may.deploy },
];

let me: Me | null = null;
let leave: (() => void) | void;

async function signedInUser(): Promise<Me | null> {
  try {
    return await api.get<Me>('/api/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

function navigate(url: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', url);
  else if (url !== location.pathname + location.search) history.pushState(null, '', url);
  void render();
}

async function render(): Promise<void> {
  leave?.();
  leave = undefined;
  const path = location.pathname;
  if (path === '/login') {
    const frame = layout(null, () => undefined);
    replace(document.body, frame.root);
    document.title = 'Sign in · Baton';
    leave = await loginPage({
      main: frame.main,
      params: [],
      me: null as unknown as Me,
      navigate: (url) => {
        me = null;
        navigate(url);
      },
    });
    return;
  }
  me ??= await signedInUser();
  if (!me) return navigate(`/login?next=${encodeURIComponent(path + location.search)}`, true);
  useSession(me);
  const home = sectionsFor(me)[0];
  if (path === '/' && home) return navigate(home, true);
  const frame = layout(me, () => {
    me = null;
    navigate('/login');
  });
  frame.markCurrent(path);
  replace(document.body, frame.root);
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (!params) continue;
    if (route.allowed && !route.allowed(me)) break;
    try {
      leave = await route.page({ main: frame.main, me, params, navigate });
    } catch (err) {
      replace(frame.main, h('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
    return;
  }
  document.title = 'Not here · Baton';
  if (path === '/') replace(frame.main, h('h1', {}, `Welcome, ${me.name}`), h('p', {}, 'Your role works through the API; the web app has no page for it.'));
  else replace(frame.main, h('h1', {}, 'Nothing here'), h('p', {}, 'This page does not exist or is not open to you.'));
}

whenSignedOut(() => {
  me = null;
  if (location.pathname !== '/login') navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
});
interceptLinks((url) => navigate(url));
window.addEventListener('popstate', () => void render());
void render();
