/**
 * The crash test: one Baton server process runs salary runs under load (clients starting runs,
 * three workers, a manager approving) and is killed with SIGKILL at random moments, then started
 * again on the same data. Afterwards every run must have ended exactly as the model says, no
 * task or external task may have been completed twice, and every history must be complete and
 * in order. Used by test/reliability/crash.test.ts (short) and `npm run crash-test` (full).
 */
import assert from 'node:assert/strict';
import { prng } from '../helpers/prng.ts';
import { DEMO, MARY, WORKER, makeDataDir, removeDataDir, spawnServer, type Reply, type ServerProcess } from '../helpers/server-process.ts';
import type { HistoryEvent, LockedTask } from '../helpers/api-types.ts';

export interface CrashOptions {
  /** salary runs to start */
  instances: number;
  /** SIGKILLs, at random moments */
  kills: number;
  /** seed of the random moments and choices; printed so a failure can be replayed */
  seed: number;
  /** the longest the whole run may take */
  timeoutMs: number;
  /** where progress goes */
  say?: (line: string) => void;
}

export interface CrashFigures {
  seed: number;
  instances: number;
  kills: number;
  durationSeconds: number;
  /** requests that met a dead server and were sent again to the next one */
  resent: number;
  /** completions answered 409: done before the kill but not answered, or withdrawn */
  conflicts: number;
  /** completions the workers and the manager saw taken (204) */
  completions: number;
  ends: Record<string, number>;
  historyEvents: number;
}

interface InstanceView {
  id: string;
  businessKey: string;
  status: string;
  variables: Record<string, unknown>;
  elements: { id: string; status: string }[];
}

const ENDS = ['SalaryPaid', 'BonusRejected', 'SalaryRunFailed'];
const UNKNOWN_EVERY = 10;
const LOCK_MS = 5_000;
const LONG_POLL_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCrashTest(options: CrashOptions): Promise<CrashFigures> {
  const say = options.say ?? (() => undefined);
  const random = prng(options.seed);
  const dataDir = makeDataDir();
  const env = { BATON_CONNECTORS: 'none', BATON_TIMER_INTERVAL_MS: '200', BATON_LOG_LEVEL: 'warn' };
  const figures: CrashFigures = { seed: options.seed, instances: 0, kills: 0, durationSeconds: 0, resent: 0, conflicts: 0, completions: 0, ends: {}, historyEvents: 0 };
  let server: ServerProcess = await spawnServer({ dataDir, demo: 'users', env });
  let restarting: Promise<void> | null = null;

  /** sends a request to the running server; when it dies under the request, sends it again to the next one */
  const call = async <T>(send: (s: ServerProcess) => Promise<Reply<T>>): Promise<Reply<T>> => {
    for (;;) {
      const target = server;
      try {
        const reply = await send(target);
        assert.ok(reply.status < 500, `a ${reply.status} answer: ${JSON.stringify(reply.body)}`);
        return reply;
      } catch (err) {
        await Promise.race([target.exited, sleep(1_000)]);
        if (target.running()) throw err;
        figures.resent++;
        while (server === target || restarting) await (restarting ?? sleep(50));
      }
    }
  };

  /** 204 counts; 409 is not a failure (done before a kill but unanswered, or withdrawn): the history tells */
  const taken = (reply: Reply): boolean => {
    if (reply.status === 409) {
      figures.conflicts++;
      return false;
    }
    assert.equal(reply.status, 204, JSON.stringify(reply.body));
    figures.completions++;
    return true;
  };

  const started = Date.now();
  let done = false;
  let failure: unknown = null;
  const watched = (work: Promise<void>): Promise<void> => work.catch((err: unknown) => void (failure ??= err));
  const seen = new Map<string, number>();
  const count = (id: string): void => void seen.set(id, (seen.get(id) ?? 0) + 1);

  const worker = async (workerId: string, topics: string[]): Promise<void> => {
    while (!done && !failure) {
      const fetched = await call((s) =>
        s.as(WORKER).post<LockedTask[]>('/api/external-tasks/fetch-and-lock', {
          workerId,
          maxTasks: 10,
          asyncResponseTimeout: LONG_POLL_MS,
          topics: topics.map((topicName) => ({ topicName, lockDuration: LOCK_MS })),
        }),
      );
      assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
      await Promise.all(
        fetched.body.map(async (task) => {
          const unknown = task.variables.employeeId === 'E-999' && task.topicName === 'bonus.calculate';
          const variables = task.topicName === 'accounting.salary-base' ? { salaryBase: 5000 } : task.topicName === 'bonus.calculate' ? { bonus: 500 } : {};
          const reply = await call((s) =>
            s.as(WORKER).post(`/api/external-tasks/${task.id}/${unknown ? 'bpmn-error' : 'complete'}`, { workerId, variables, errorCode: 'EMPLOYEE_UNKNOWN' }),
          );
          if (taken(reply)) count(task.id);
        }),
      );
    }
  };

  const manager = async (): Promise<void> => {
    while (!done && !failure) {
      const list = await call((s) => s.as(MARY).get<{ items: { id: string }[] }>('/api/tasks?candidateGroup=managers&limit=20'));
      assert.equal(list.status, 200, JSON.stringify(list.body));
      await Promise.all(
        list.body.items.map(async (task) => {
          const reply = await call((s) => s.as(MARY).post(`/api/tasks/${task.id}/complete`, { variables: { approved: random() < 0.8 } }));
          if (taken(reply)) count(task.id);
        }),
      );
      if (!list.body.items.length) await sleep(300);
    }
  };

  /** kills the server at random moments, 0.3 to 2.5 s after it became healthy, and starts it again */
  const killer = async (): Promise<void> => {
    while (figures.kills < options.kills && !failure) {
      await sleep(300 + random() * 2_200);
      let release!: () => void;
      restarting = new Promise((resolve) => (release = resolve));
      try {
        await server.kill9();
        figures.kills++;
        server = await spawnServer({ dataDir, demo: 'users', env });
        say(`kill ${figures.kills}/${options.kills} after ${Math.round((Date.now() - started) / 1000)} s; restarted`);
      } finally {
        restarting = null;
        release();
      }
    }
  };

  try {
    const loops = [
      worker('accounting', ['accounting.salary-base', 'accounting.payroll']),
      worker('bonus', ['bonus.calculate']),
      worker('notify', ['notify.sms', 'notify.email']),
      manager(),
    ].map(watched);
    const kills = watched(killer());

    // four clients request the runs, each with a unique business key
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < options.instances && !failure) {
          const n = next++;
          const employeeId = n % UNKNOWN_EVERY === UNKNOWN_EVERY - 1 ? 'E-999' : `E-10${n % 6}`;
          const reply = await call((s) => s.as(DEMO).post('/api/processes/salary/instances', { businessKey: `run-${n}`, variables: { employeeId } }));
          assert.equal(reply.status, 201, JSON.stringify(reply.body));
          await sleep(random() * 100);
        }
      }),
    );

    // the runs may all finish before the last kill: keep going until both are done
    for (;;) {
      if (failure) throw failure;
      const running = await call((s) => s.as(DEMO).get<{ total: number }>('/api/instances?processKey=salary&status=running&limit=1'));
      if (running.body.total === 0 && figures.kills >= options.kills) break;
      assert.ok(Date.now() - started < options.timeoutMs, `${running.body.total} runs still running after ${options.timeoutMs / 1000} s`);
      if (running.body.total === 0) {
        // nothing left to kill it under: start a few more runs
        for (let i = 0; i < 5; i++) {
          const n = next++;
          await call((s) => s.as(DEMO).post('/api/processes/salary/instances', { businessKey: `run-${n}`, variables: { employeeId: `E-10${n % 6}` } }));
        }
      }
      await sleep(500);
    }
    done = true;
    await Promise.all([...loops, kills]);
    if (failure) throw failure;
    figures.durationSeconds = Math.round((Date.now() - started) / 100) / 10;

    await check(server, figures, seen);
    return figures;
  } finally {
    done = true;
    await server.kill9();
    removeDataDir(dataDir);
  }
}

/** Every run ended at exactly one end event, as its employee says; no work done twice; each history complete and in order. */
async function check(server: ServerProcess, figures: CrashFigures, seen: Map<string, number>): Promise<void> {
  const instances: InstanceView[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await server.as(DEMO).get<{ items: InstanceView[]; total: number }>(`/api/instances?processKey=salary&limit=500&offset=${offset}`);
    instances.push(...page.body.items);
    if (instances.length >= page.body.total) break;
  }
  figures.instances = instances.length;
  const duplicates: string[] = [];
  for (const { id } of instances) {
    const instance = (await server.as(DEMO).get<InstanceView>(`/api/instances/${id}`)).body;
    assert.equal(instance.status, 'completed', `${id} (${instance.businessKey}) is ${instance.status}`);
    const reached = instance.elements.filter((e) => ENDS.includes(e.id) && e.status === 'completed').map((e) => e.id);
    assert.equal(reached.length, 1, `${id} reached ${reached.join(', ') || 'no end event'}`);
    const end = reached[0] as string;
    figures.ends[end] = (figures.ends[end] ?? 0) + 1;
    assert.equal(end === 'SalaryRunFailed', instance.variables.employeeId === 'E-999', `${id} for ${String(instance.variables.employeeId)} ended in ${end}`);

    const history = (await server.as(DEMO).get<HistoryEvent[]>(`/api/instances/${id}/history`)).body;
    figures.historyEvents += history.length;
    assert.deepEqual(history.map((e) => e.seq), history.map((_, i) => i + 1), `${id}: history numbered 1..n without gaps`);
    assert.equal(history[0]?.type, 'instance.started', `${id}: history starts with the start`);
    assert.equal(history.at(-1)?.type, 'instance.completed', `${id}: history ends with the end`);
    const once = (type: string, key: (e: HistoryEvent) => unknown): void => {
      const keys = new Set<unknown>();
      for (const event of history.filter((e) => e.type === type)) {
        if (keys.has(key(event))) duplicates.push(`${id}: ${type} ${String(key(event))} twice`);
        keys.add(key(event));
      }
    };
    once('job.completed', (e) => e.data?.jobId);
    once('job.bpmnError', (e) => e.data?.jobId);
    once('task.completed', (e) => e.data?.taskId);
    once('element.completed', (e) => e.executionId);
    once('instance.completed', () => id);
  }
  for (const [taskId, times] of seen) if (times > 1) duplicates.push(`task ${taskId} was completed ${times} times as its worker saw it`);
  assert.deepEqual(duplicates, [], 'nothing was done twice');
}
