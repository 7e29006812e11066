import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ExpressionError, expressionLimits, shown } from './expression-limits.ts';

/**
 * FEEL evaluation in a worker thread, called synchronously: the engine asks for a condition's
 * value in the middle of its run. The caller posts the expression and its variables, then blocks
 * on a shared flag (Atomics.wait) until the worker answers or the deadline passes. A worker that
 * passes the deadline is terminated, one that passes its heap limit is stopped by Node; either
 * way the expression fails with an ExpressionError and a fresh worker takes the next one. The
 * server's own heap and event loop are never at the expression's mercy for longer than the
 * deadline. A spare worker is started beside the active one, so a terminated worker's successor
 * is usually ready at once.
 */

/** How long a new worker may take to load feelin; not counted against an expression's deadline. */
const STARTUP_MS = 15_000;
const WORKER_URL = new URL('./feel-worker.mjs', import.meta.url);

interface FeelWorker {
  worker: Worker;
  port: MessagePort;
  /** [0]: 1 when an answer was posted; [1]: 1 once the worker listens */
  flags: Int32Array;
  memoryMb: number;
}

type Reply = { ok: true; value: unknown } | { ok: false; message: string };

function spawn(memoryMb: number): FeelWorker {
  const signal = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_URL, {
    workerData: { signal, port: port2 },
    transferList: [port2],
    // plain JavaScript: no TypeScript loader, so it starts in a fraction of the time
    execArgv: [],
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(4, Math.floor(memoryMb / 4)), stackSizeMb: 4 },
  });
  worker.unref();
  port1.unref();
  // a worker stopped at its heap limit reports here; the caller has already timed out on it
  worker.on('error', () => undefined);
  return { worker, port: port1, flags: new Int32Array(signal), memoryMb };
}

let active: FeelWorker | null = null;
let spare: FeelWorker | null = null;

function retire(feel: FeelWorker): void {
  feel.port.close();
  void feel.worker.terminate();
}

/** the worker to use now: the active one, else the spare, else a new one; ready to listen */
function ready(memoryMb: number): FeelWorker {
  if (active && active.memoryMb !== memoryMb) {
    retire(active);
    active = null;
  }
  if (spare && spare.memoryMb !== memoryMb) {
    retire(spare);
    spare = null;
  }
  if (!active) {
    active = spare ?? spawn(memoryMb);
    spare = null;
  }
  if (Atomics.wait(active.flags, 1, 0, STARTUP_MS) === 'timed-out' && Atomics.load(active.flags, 1) !== 1) {
    retire(active);
    active = null;
    throw new ExpressionError('the FEEL evaluator did not start');
  }
  return active;
}

/** Starts a FEEL worker ahead of the first expression, so that no request waits for one to load. */
export function warmFeelSandbox(): void {
  const { maxMemoryMb } = expressionLimits();
  if (!active && !spare) spare = spawn(maxMemoryMb);
}

/**
 * Evaluates FEEL in the worker under the current limits and returns its value as plain data
 * (dates as ISO text). Throws ExpressionError when it fails or passes a bound.
 */
export function evaluateFeelBounded(source: string, context: Record<string, unknown>): unknown {
  const { timeoutMs, maxMemoryMb, maxResultChars } = expressionLimits();
  const feel = ready(maxMemoryMb);
  Atomics.store(feel.flags, 0, 0);
  try {
    feel.worker.postMessage({ source, context, maxResultChars });
  } catch (err) {
    throw new ExpressionError(`=${shown(source)}: its variables cannot be passed to FEEL (${(err as Error).message})`);
  }
  const waited = Atomics.wait(feel.flags, 0, 0, timeoutMs);
  const answer = waited === 'timed-out' && Atomics.load(feel.flags, 0) !== 1 ? undefined : receiveMessageOnPort(feel.port);
  if (!answer) {
    // past the deadline or stopped at the heap limit: the worker is replaced, the expression fails
    retire(feel);
    active = null;
    spare ??= spawn(maxMemoryMb);
    throw new ExpressionError(`=${shown(source)} exceeded the time limit of ${timeoutMs} ms or the memory limit of ${maxMemoryMb} MB (BATON_EXPRESSION_TIMEOUT_MS, BATON_EXPRESSION_MAX_MEMORY_MB)`);
  }
  spare ??= spawn(maxMemoryMb);
  const reply = answer.message as Reply;
  if (!reply.ok) {
    const bound = /larger than \d+ characters/.test(reply.message) ? ' (BATON_EXPRESSION_MAX_RESULT_CHARS)' : '';
    throw new ExpressionError(`=${shown(source)}: ${reply.message}${bound}`);
  }
  return reply.value;
}
