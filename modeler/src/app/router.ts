import type { Me } from './api.ts';

/** What a page gets: where to draw, who is signed in, the address's parameters. */
export interface PageContext {
  main: HTMLElement;
  me: Me;
  params: string[];
  navigate(url: string): void;
}

/** A page draws itself into `main`; what it returns is called when the user leaves it. */
export type Page = (context: PageContext) => Promise<(() => void) | void>;

/** An address pattern and its page; `:param` parts are passed in order. */
export interface Route {
  pattern: string;
  page: Page;
  /** shown only to users who may (the capabilities of /api/me) */
  allowed?: (me: Me) => boolean;
}

/** The parameters of a path that matches the pattern, or null. */
export function match(pattern: string, path: string): string[] | null {
  const want = pattern.split('/');
  const have = path.replace(/\/$/, '').split('/');
  if (want.length !== have.length) return null;
  const params: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (want[i]?.startsWith(':')) params.push(decodeURIComponent(have[i] ?? ''));
    else if (want[i] !== have[i]) return null;
  }
  return params;
}

/** Follows same-origin links inside the app without reloading the page. */
export function interceptLinks(navigate: (url: string) => void): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const href = link.getAttribute('href');
    if (!href?.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return;
    event.preventDefault();
    navigate(href);
  });
}
