import { api, type Me } from './api.ts';
import { h } from './dom.ts';

const SECTIONS: { href: string; label: string; allowed: (me: Me) => boolean }[] = [
  { href: '/processes', label: 'Processes', allowed: (me) => me.may.start || me.may.seeAllInstances },
  { href: '/instances', label: 'Instances', allowed: (me) => me.may.start || me.may.seeAllInstances },
  { href: '/tasks', label: 'Tasks', allowed: (me) => me.may.tasks },
  { href: '/modeler', label: 'Modeler', allowed: (me) => me.may.deploy },
];

/** The sections a user may open, in menu order. */
export function sectionsFor(me: Me): string[] {
  return SECTIONS.filter((section) => section.allowed(me)).map((section) => section.href);
}

/** The page frame: a header with the sections the user may open and sign-out, and the main area. */
export function layout(me: Me | null, onSignOut: () => void): { root: HTMLElement; main: HTMLElement; markCurrent(path: string): void } {
  const links = me
    ? SECTIONS.filter((section) => section.allowed(me)).map((section) => h('a', { href: section.href, class: 'nav-link' }, section.label))
    : [];
  const signOut = async (): Promise<void> => {
    await api.delete('/api/session').catch(() => undefined);
    onSignOut();
  };
  const header = h(
    'header',
    { class: 'top' },
    h('a', { href: '/', class: 'brand' }, 'Baton'),
    h('nav', { 'aria-label': 'Sections' }, links),
    me ? h('div', { class: 'who' }, h('span', { class: 'user-name' }, me.name), h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out')) : null,
  );
  const main = h('main', { id: 'main', tabindex: -1 });
  const root = h('div', { class: 'app' }, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header, main);
  return {
    root,
    main,
    markCurrent(path) {
      for (const link of links) {
        const current = path === link.getAttribute('href') || path.startsWith(`${link.getAttribute('href')}/`);
        if (current) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
  };
}
