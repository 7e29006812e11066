/** The REST API as the web app uses it: same-origin, signed in by the session cookie. */

/** One problem of a problem+json answer: which field or element, and what is wrong. */
export interface Problem {
  path?: string;
  message: string;
}

/** A failed request: the status and the server's problem+json detail and problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** What the signed-in user is and may do (GET /api/me). */
export interface Me {
  name: string;
  groups: string[];
  roles: string[];
  csrfToken?: string;
  may: { deploy: boolean; start: boolean; cancel: boolean; retry: boolean; seeAllInstances: boolean; processStats: boolean; tasks: boolean };
}

let csrfToken = '';
let onUnauthorized: () => void = () => undefined;

/** Remembers the session's CSRF token, sent with every state-changing request. */
export function useSession(me: Me): void {
  csrfToken = me.csrfToken ?? '';
}

/** What to do when the session has ended (401): go to the sign-in page. */
export function whenSignedOut(handler: () => void): void {
  onUnauthorized = handler;
}

async function request<T>(method: string, url: string, body?: BodyInit | object, type?: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-requested-with': 'baton-web' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (body instanceof FormData || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  if (type) headers['content-type'] = type;
  const res = await fetch(url, { method, headers, body: payload ?? null, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    if (res.status === 401 && url !== '/api/session') onUnauthorized();
    const detail = typeof json === 'object' && json ? (json.detail ?? json.title) : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, String(detail), typeof json === 'object' && Array.isArray(json?.problems) ? json.problems : []);
  }
  return json as T;
}

export const api = {
  get: <T>(url: string) => request<T>('GET', url),
  post: <T>(url: string, body?: BodyInit | object) => request<T>('POST', url, body ?? {}),
  delete: <T>(url: string) => request<T>('DELETE', url),
};

/** A query string from the values that are set. */
export function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
