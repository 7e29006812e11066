import { api, ApiError } from '../../app/api.ts';
import { h, replace } from '../../app/dom.ts';
import type { Page } from '../../app/router.ts';

/** /login: user and password, checked by the server as the API checks them; sets the session cookie. */
export const loginPage: Page = async ({ main, navigate }) => {
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login card', novalidate: true },
    h('h1', {}, 'Sign in to Baton'),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'User'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    message,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    submit.disabled = true;
    try {
      await api.post('/api/session', { user: user.value, password: password.value });
      const next = new URLSearchParams(location.search).get('next');
      // only an address of this app: "/x", never "//host" or "/\\host"
      navigate(next && /^\/(?![/\\])/.test(next) ? next : '/');
    } catch (err) {
      replace(message, err instanceof ApiError && err.status === 401 ? 'Wrong user or password.' : (err as Error).message);
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, form);
  user.focus();
};
