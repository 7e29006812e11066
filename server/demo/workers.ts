/**
 * External-task workers for the salary demo. They talk to Baton only through its public REST
 * API (fetch-and-lock, complete, failure, bpmn-error) exactly as a customer's worker would, and
 * call the demo accounting and bonus systems. A failure is reported without retries, so Baton's
 * retry cycle (the model's camunda:failedJobRetryTimeCycle) decides when to try again. SMS and
 * e-mail (notify.*) are Baton's built-in connectors, not these workers.
 */

import { deadline } from '../deadline.ts';

/** The logging the workers need; a pino logger fits. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Where Baton and the demo systems are, and how to sign in to Baton: an API token (`Bearer <user>:<token>`). */
export interface DemoWorkersOptions {
  readonly batonUrl: string;
  readonly user: string;
  /** an API token of the user: not subject to the password throttle, so guessing worker's password stops no salary run */
  readonly token: string;
  readonly accountingUrl: string;
  readonly bonusUrl: string;
  readonly log: Logger;
}

/** The running workers. */
export interface DemoWorkers {
  /** Ends every polling loop (aborting open requests) and resolves once all have ended. */
  stop(): Promise<void>;
}

/** A locked external task as Baton's fetch-and-lock returns it. */
interface ExternalTask {
  readonly id: string;
  readonly topicName: string;
  readonly instanceId: string;
  readonly elementId: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly retries: number | null;
}

type Outcome =
  | { readonly kind: 'complete'; readonly variables: Record<string, unknown> }
  | { readonly kind: 'bpmn-error'; readonly errorCode: string; readonly errorMessage: string };

type TopicHandler = (task: ExternalTask, signal: AbortSignal) => Promise<Outcome>;

/** A failure worth a retry (or, with `retry` false, one that needs a human: retries 0). */
class TechnicalError extends Error {
  constructor(
    message: string,
    readonly retry = true,
  ) {
    super(message);
  }
}

const asyncResponseTimeout = 20_000;
const lockDuration = 30_000;
const requestTimeout = 10_000;
const maxBackoff = 10_000;

/** Starts one long-polling loop per demo worker: `demo-accounting`, `demo-bonus`. */
export function startDemoWorkers(opts: DemoWorkersOptions): DemoWorkers {
  const { log } = opts;
  const controller = new AbortController();
  const stopping = (): boolean => controller.signal.aborted;
  const handlers = createHandlers(opts);
  const workers: Record<string, readonly string[]> = {
    'demo-accounting': ['accounting.salary-base', 'accounting.payroll'],
    'demo-bonus': ['bonus.calculate'],
  };
  const authorization = `Bearer ${opts.user}:${opts.token}`;
  const batonBase = opts.batonUrl.replace(/\/+$/, '');

  async function callBaton(path: string, body: object, timeoutMs: number): Promise<Response> {
    const call = deadline(timeoutMs, controller.signal);
    try {
      return await fetch(`${batonBase}/api/external-tasks${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: call.signal,
      });
    } finally {
      call.clear();
    }
  }

  async function fetchAndLock(workerId: string, topics: readonly string[]): Promise<ExternalTask[]> {
    const res = await callBaton(
      '/fetch-and-lock',
      { workerId, maxTasks: 5, asyncResponseTimeout, topics: topics.map((topicName) => ({ topicName, lockDuration })) },
      asyncResponseTimeout + requestTimeout,
    );
    if (res.status !== 200) throw new Error(`fetch-and-lock answered ${res.status}${await problemDetail(res)}`);
    const body: unknown = await res.json();
    if (!Array.isArray(body)) throw new Error('fetch-and-lock did not answer with an array');
    return body.flatMap((item: unknown) => {
      const task = parseTask(item);
      if (!task) log.warn({ workerId, item }, 'Ignoring a malformed external task');
      return task ? [task] : [];
    });
  }

  async function report(workerId: string, task: ExternalTask, action: string, body: object): Promise<void> {
    try {
      const res = await callBaton(`/${encodeURIComponent(task.id)}/${action}`, { workerId, ...body }, requestTimeout);
      if (res.status !== 204) throw new Error(`answered ${res.status}${await problemDetail(res)}`);
    } catch (error) {
      if (stopping()) return;
      log.warn({ workerId, taskId: task.id, action, error: messageOf(error) }, 'Could not report an external task');
    }
  }

  async function work(workerId: string, task: ExternalTask): Promise<void> {
    const context = { workerId, taskId: task.id, topic: task.topicName, instanceId: task.instanceId, elementId: task.elementId };
    const handler = handlers[task.topicName];
    let outcome: Outcome;
    try {
      if (!handler) throw new TechnicalError(`${workerId} has no handler for topic ${task.topicName}`, false);
      outcome = await handler(task, controller.signal);
    } catch (error) {
      // On stop, leave the task alone: its lock expires and it is fetched again later.
      if (stopping()) return;
      // a failure worth a retry leaves retries to Baton's retry cycle; one that needs a human is an incident now
      const retries = error instanceof TechnicalError && !error.retry ? { retries: 0 } : {};
      const errorMessage = messageOf(error);
      log.warn({ ...context, error: errorMessage, ...retries }, 'External task failed');
      return report(workerId, task, 'failure', { errorMessage, ...retries });
    }
    if (outcome.kind === 'bpmn-error') {
      log.info({ ...context, errorCode: outcome.errorCode }, 'External task raised a BPMN error');
      return report(workerId, task, 'bpmn-error', { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
    }
    log.info({ ...context, variables: Object.keys(outcome.variables) }, 'External task completed');
    return report(workerId, task, 'complete', { variables: outcome.variables });
  }

  async function poll(workerId: string, topics: readonly string[]): Promise<void> {
    let backoff = 1_000;
    while (!stopping()) {
      const started = Date.now();
      let tasks: ExternalTask[];
      try {
        tasks = await fetchAndLock(workerId, topics);
        backoff = 1_000;
      } catch (error) {
        if (stopping()) break;
        log.warn({ workerId, error: messageOf(error), retryInMs: backoff }, 'Cannot fetch external tasks from Baton');
        await sleep(backoff, controller.signal);
        backoff = Math.min(backoff * 2, maxBackoff);
        continue;
      }
      await Promise.all(tasks.map((task) => work(workerId, task)));
      // Guard against a server that answers an empty poll at once instead of holding it open.
      if (tasks.length === 0) await sleep(1_000 - (Date.now() - started), controller.signal);
    }
  }

  const loops = Object.entries(workers).map(([workerId, topics]) => poll(workerId, topics));
  log.info({ workers: Object.keys(workers), batonUrl: batonBase }, 'Demo workers started');
  return {
    async stop() {
      controller.abort();
      await Promise.all(loops);
      log.info({ workers: Object.keys(workers) }, 'Demo workers stopped');
    },
  };
}

function createHandlers(opts: DemoWorkersOptions): Readonly<Record<string, TopicHandler>> {
  const { accountingUrl, bonusUrl } = opts;
  const unknownEmployee = (employeeId: string): Outcome => ({
    kind: 'bpmn-error',
    errorCode: 'EMPLOYEE_UNKNOWN',
    errorMessage: `Employee ${employeeId} is unknown`,
  });

  return {
    'accounting.salary-base': async (task, signal) => {
      const employeeId = variable(task, 'employeeId', 'string');
      const res = await callSystem('accounting', `${accountingUrl}/employees/${encodeURIComponent(employeeId)}/salary-base`, {}, signal);
      if (!res) return unknownEmployee(employeeId);
      return { kind: 'complete', variables: { salaryBase: field(res, 'salaryBase', 'number') } };
    },
    'bonus.calculate': async (task, signal) => {
      const employeeId = variable(task, 'employeeId', 'string');
      const res = await callSystem('bonus', `${bonusUrl}/employees/${encodeURIComponent(employeeId)}/bonus`, {}, signal);
      if (!res) return unknownEmployee(employeeId);
      return { kind: 'complete', variables: { bonus: field(res, 'bonus', 'number') } };
    },
    'accounting.payroll': async (task, signal) => {
      const employeeId = variable(task, 'employeeId', 'string');
      const payroll = { employeeId, salaryBase: variable(task, 'salaryBase', 'number'), bonus: variable(task, 'bonus', 'number') };
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payroll) };
      const res = await callSystem('accounting', `${accountingUrl}/payroll`, init, signal);
      if (!res) return unknownEmployee(employeeId);
      return { kind: 'complete', variables: { payrollId: field(res, 'payrollId', 'string') } };
    },
  };
}

/** Calls a demo system; resolves with its JSON body, or undefined when it answered 404. */
async function callSystem(system: string, url: string, init: RequestInit, signal: AbortSignal): Promise<object | undefined> {
  let res: Response;
  const call = deadline(requestTimeout, signal);
  try {
    res = await fetch(url, { ...init, signal: call.signal });
  } catch (error) {
    throw new TechnicalError(`The ${system} system is unreachable: ${messageOf(error)}`);
  } finally {
    call.clear();
  }
  if (res.status === 404) return undefined;
  // 5xx may pass; any other refusal means the request itself is wrong and needs a human.
  if (!res.ok) throw new TechnicalError(`The ${system} system answered ${res.status}${await problemDetail(res)}`, res.status >= 500);
  const body: unknown = await res.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null) throw new TechnicalError(`The ${system} system answered no JSON object`);
  return body;
}

function variable<K extends 'string' | 'number'>(task: ExternalTask, name: string, kind: K): K extends 'string' ? string : number {
  return pick(task.variables, name, kind, `Process variable ${name}`);
}

function field<K extends 'string' | 'number'>(body: object, name: string, kind: K): K extends 'string' ? string : number {
  return pick(body as Record<string, unknown>, name, kind, `Answer field ${name}`);
}

function pick<K extends 'string' | 'number'>(from: Readonly<Record<string, unknown>>, name: string, kind: K, what: string): K extends 'string' ? string : number {
  const value = from[name];
  if (typeof value !== kind) throw new TechnicalError(`${what} is not a ${kind}`, false);
  return value as K extends 'string' ? string : number;
}

function parseTask(item: unknown): ExternalTask | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { id, topicName, instanceId, elementId, variables, retries } = item as Record<string, unknown>;
  if (typeof id !== 'string' || typeof topicName !== 'string') return undefined;
  return {
    id,
    topicName,
    instanceId: typeof instanceId === 'string' ? instanceId : '',
    elementId: typeof elementId === 'string' ? elementId : '',
    variables: typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {},
    retries: typeof retries === 'number' ? retries : null,
  };
}

async function problemDetail(res: Response): Promise<string> {
  const body: unknown = await res.json().catch(() => undefined);
  const detail = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['detail'] : undefined;
  return typeof detail === 'string' ? `: ${detail}` : '';
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch hides the real reason (ECONNREFUSED, ...) in `cause`.
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
