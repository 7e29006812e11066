// @ts-check
/**
 * The worker thread that evaluates FEEL for feel-sandbox.ts. It runs under a heap limit, and the
 * server terminates it when an evaluation passes its deadline, so no FEEL expression — a range of
 * a billion numbers, a backtracking regular expression, one nobody thought of — can take the
 * server's memory or time. Plain JavaScript: the worker starts without the TypeScript loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { evaluate, isFunction } from 'feelin';

/** @type {{ signal: SharedArrayBuffer, port: import('node:worker_threads').MessagePort }} */
const { signal, port } = workerData;
const flags = new Int32Array(signal);

/**
 * The value as plain data the server can store: dates, times and durations as ISO text, functions
 * as null, other FEEL values (ranges) as their fields; throws once it is larger than `max` JSON characters (shared parts count each time).
 * @param {unknown} value
 * @param {number} max
 */
function plain(value, max) {
  let size = 0;
  /** @param {unknown} item @returns {unknown} */
  const visit = (item) => {
    if (++size > max) throw new Error(`its value is larger than ${max} characters`);
    if (typeof item === 'string') {
      size += item.length;
      if (size > max) throw new Error(`its value is larger than ${max} characters`);
      return item;
    }
    if (typeof item === 'function' || isFunction(item)) return null;
    if (!item || typeof item !== 'object') return item;
    if (Array.isArray(item)) return item.map(visit);
    const object = /** @type {Record<string, unknown>} */ (item);
    if (typeof object.toISO === 'function') return String(object.toISO());
    /** @type {Record<string, unknown>} */
    const copy = {};
    for (const key of Object.keys(object)) {
      size += key.length;
      copy[key] = visit(object[key]);
    }
    return copy;
  };
  return visit(value);
}

parentPort?.on('message', (/** @type {{ source: string, context: Record<string, unknown>, maxResultChars: number }} */ request) => {
  let reply;
  try {
    const { value } = evaluate(request.source, request.context);
    reply = { ok: true, value: typeof value === 'function' || isFunction(value) ? undefined : plain(value, request.maxResultChars) };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  try {
    port.postMessage(reply);
  } catch (err) {
    port.postMessage({ ok: false, message: `its value cannot be stored (${err instanceof Error ? err.message : String(err)})` });
  }
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
});

Atomics.store(flags, 1, 1);
Atomics.notify(flags, 1);
