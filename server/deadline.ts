/**
 * An abort signal that fires after `ms` or when `parent` aborts, with its own timer.
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the garbage collector may
 * take such a composite signal's timeout, and a call waiting on it then waits for ever.
 * Call `clear()` when the work is done.
 */
export interface Deadline {
  signal: AbortSignal;
  /** true once the time ran out (not when the parent aborted) */
  readonly expired: boolean;
  clear(): void;
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const abort = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    abort.abort(new Error(`no answer within ${ms} ms`));
  }, ms);
  const stop = (): void => abort.abort(parent?.reason);
  if (parent?.aborted) stop();
  else parent?.addEventListener('abort', stop, { once: true });
  return {
    signal: abort.signal,
    get expired() {
      return expired;
    },
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', stop);
    },
  };
}
