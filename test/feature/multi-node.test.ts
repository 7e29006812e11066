/**
 * Several Baton processes share one MongoDB-compatible database (FerretDB here) and all its work:
 * runs are started, external tasks fetched and completed, and user tasks completed through
 * randomly chosen nodes, while one node is killed with SIGKILL midway and started again.
 *
 * The load is what a small installation sees, not a poll storm: one long-polling worker per
 * system (topic group), one manager working the task list, one monitor checking progress every
 * two seconds. The notification topics are worked by a worker of the test too (BATON_CONNECTORS
 * is off): a killed node's built-in connectors would hold their locks for five minutes.
 *
 * BATON_MULTI_NODE_INSTANCES lowers the number of runs for a quick try (default 300).
 */
import assert from 'node:assert/strict';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.ts';
import {
  DEMO,
  MARY,
  WORKER,
  makeDataDir,
  removeDataDir,
  spawnServer,
  type Reply,
  type ServerProcess,
} from '../helpers/server-process.ts';
import type { HistoryEvent, LockedTask } from '../helpers/api-types.ts';

const INSTANCES = Number(process.env.BATON_MULTI_NODE_INSTANCES ?? 300);
const NODES = 3;
const FAILING_EVERY = 10; // every 10th run is for an unknown employee and ends in "Salary run failed"
const LOCK_MS = 20_000;
const LONG_POLL_MS = 5_000;
const RUN_TIMEOUT_MS = 10 * 60_000;

interface InstanceView {
  status: string;
  elements: { id: string; status: string }[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

Feature('Several Baton nodes share one MongoDB', function (this: Mocha.Suite) {
  this.timeout(RUN_TIMEOUT_MS + 5 * 60_000);
  let ferret: FerretDb | null = null;
  let uri = '';
  const nodes: ServerProcess[] = [];
  const dirs: string[] = [];
  const figures = {
    instances: INSTANCES,
    nodes: NODES,
    durationSeconds: 0,
    kills: 0,
    restarts: 0,
    requestsToDeadNode: 0,
    conflicts: 0,
    duplicates: 0,
  };

  before(async function () {
    ferret = await startFerretDb();
    if (!ferret) {
      console.log(
        '    multi-node scenario skipped: ferretdb not found. Build FerretDB v1.24.2 as test/helpers/ferretdb.ts describes (or set FERRETDB_BIN).',
      );
      this.skip();
    }
    uri = `${ferret.uri.replace(/\/?$/, '/')}baton_multinode`;
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill9()));
    dirs.forEach(removeDataDir);
    await ferret?.stop();
  });

  const startNode = async (): Promise<ServerProcess> => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const env = { MONGODB_URI: uri, BATON_CONNECTORS: 'none', BATON_TIMER_INTERVAL_MS: '1000', BATON_LOG_LEVEL: 'warn' };
    const node = await spawnServer({ dataDir, demo: 'users', env });
    nodes.push(node);
    return node;
  };

  /**
   * A request to a randomly chosen live node. A request that fails because its node died under
   * it goes to another node; any other failure fails the scenario.
   */
  const call = async <T>(send: (node: ServerProcess) => Promise<Reply<T>>): Promise<Reply<T>> => {
    for (;;) {
      const live = nodes.filter((node) => node.running());
      const node = live[Math.floor(Math.random() * live.length)];
      assert.ok(node, 'a node is running');
      try {
        return await send(node);
      } catch (err) {
        // "other side closed" can come a moment before the process is seen to exit
        await Promise.race([node.exited, sleep(1_000)]);
        if (node.running()) throw err;
        figures.requestsToDeadNode++;
      }
    }
  };

  /**
   * Whether a completion was taken (204). A 409 is not a failure: the task may have been withdrawn
   * (an unknown employee's bonus error cancels the salary base), done by a node that died before
   * it answered, or its instance held by a dead node's claim for a while; the history tells
   * whether anything was done twice.
   */
  const completed = (reply: Reply): boolean => {
    if (reply.status === 409) {
      figures.conflicts++;
      return false;
    }
    assert.equal(reply.status, 204, JSON.stringify(reply.body));
    return true;
  };

  Scenario(`${INSTANCES} salary runs through ${NODES} nodes, one killed with SIGKILL midway`, () => {
    const runs: { id: string; employeeId: string }[] = [];
    const completions = new Map<string, number>();
    let started = 0;

    Given(`${NODES} Baton processes on one FerretDB database`, async () => {
      for (let i = 0; i < NODES; i++) await startNode();
      const processes = await nodes[0]!.as(DEMO).get('/api/processes/salary');
      assert.equal(processes.status, 200);
      assert.equal(processes.body.versions.length, 1, 'each node deployed the same salary process: one version');
    });

    When('runs are started, worked and approved through random nodes, and one node is killed midway and started again', async () => {
      started = Date.now();
      let done = false;
      // a failing worker, manager or client fails the scenario at once, not at the timeout
      let failure: unknown = null;
      const watched = (work: Promise<void>): Promise<void> => work.catch((err: unknown) => void (failure ??= err));

      // once half of the runs took their last step, node 2 is killed with SIGKILL and a new node started
      let finished = 0;
      let killed: Promise<void> | null = null;
      const finishedOne = (): void => {
        if (++finished < INSTANCES / 2 || killed) return;
        figures.kills++;
        killed = watched(
          (async () => {
            await nodes[1]!.kill9();
            await sleep(2_000);
            await startNode();
            figures.restarts++;
          })(),
        );
      };

      /** one system's worker: long polls for its topics, completes what it got (a BPMN error for an unknown employee's bonus) */
      const worker = async (workerId: string, topics: string[]): Promise<void> => {
        while (!done) {
          const fetched = await call((node) =>
            node.as(WORKER).post<LockedTask[]>('/api/external-tasks/fetch-and-lock', {
              workerId,
              maxTasks: 10,
              asyncResponseTimeout: LONG_POLL_MS,
              topics: topics.map((topicName) => ({ topicName, lockDuration: LOCK_MS })),
            }),
          );
          assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
          // the tasks of one fetch are worked at once, as the external-task clients do
          const work = async (task: LockedTask): Promise<void> => {
            const unknown = task.variables.employeeId === 'E-999' && task.topicName === 'bonus.calculate';
            const variables =
              task.topicName === 'accounting.salary-base' ? { salaryBase: 5000 } : task.topicName === 'bonus.calculate' ? { bonus: 500 } : {};
            const reply = await call((node) =>
              node
                .as(WORKER)
                .post(`/api/external-tasks/${task.id}/${unknown ? 'bpmn-error' : 'complete'}`, { workerId, variables, errorCode: 'EMPLOYEE_UNKNOWN' }),
            );
            if (!completed(reply)) return;
            completions.set(task.id, (completions.get(task.id) ?? 0) + 1);
            if (task.topicName === 'accounting.payroll' || task.topicName === 'notify.sms') finishedOne();
          };
          await Promise.all(fetched.body.map(work));
        }
      };

      /** a manager: approves (or rejects, one in five) the tasks the list shows, and looks again a second later when it is empty */
      const manager = async (): Promise<void> => {
        while (!done) {
          const list = await call((node) => node.as(MARY).get<{ items: { id: string }[] }>('/api/tasks?candidateGroup=managers&limit=20'));
          assert.equal(list.status, 200, JSON.stringify(list.body));
          await Promise.all(
            list.body.items.map(async (task) => {
              const approved = Math.random() < 0.8;
              const reply = await call((node) => node.as(MARY).post(`/api/tasks/${task.id}/complete`, { variables: { approved } }));
              if (completed(reply) && !approved) finishedOne();
            }),
          );
          if (!list.body.items.length) await sleep(1_000);
        }
      };

      const workers = [
        worker('accounting', ['accounting.salary-base', 'accounting.payroll']),
        worker('bonus', ['bonus.calculate']),
        worker('notify', ['notify.sms', 'notify.email']),
        manager(),
      ].map(watched);

      try {
        // the runs are requested by four clients at once
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (runs.length < INSTANCES && !failure) {
              const n = runs.length;
              const employeeId = n % FAILING_EVERY === FAILING_EVERY - 1 ? 'E-999' : `E-10${n % 6}`;
              runs.push({ id: '', employeeId });
              const reply = await call((node) => node.as(DEMO).post<{ id: string }>('/api/processes/salary/instances', { variables: { employeeId } }));
              assert.equal(reply.status, 201, JSON.stringify(reply.body));
              runs[n]!.id = reply.body.id;
            }
          }),
        );

        // a monitor: how many runs are still running, every two seconds
        for (;;) {
          if (failure) throw failure;
          const running = await call((node) => node.as(DEMO).get<{ total: number }>('/api/instances?processKey=salary&status=running&limit=1'));
          assert.equal(running.status, 200, JSON.stringify(running.body));
          if (running.body.total === 0) break;
          assert.ok(Date.now() - started < RUN_TIMEOUT_MS, `${running.body.total} runs still running after ${RUN_TIMEOUT_MS / 60_000} minutes`);
          await sleep(2_000);
        }
      } finally {
        done = true;
        await Promise.all([...workers, killed]);
      }
      if (failure) throw failure;
      figures.durationSeconds = Math.round((Date.now() - started) / 100) / 10;
    });

    Then('every run ended in exactly one end event, no work was done twice, and each history is complete', async () => {
      assert.equal(figures.kills, 1, 'a node was killed midway');
      const ends = ['SalaryPaid', 'BonusRejected', 'SalaryRunFailed'];
      const counts: Record<string, number> = {};
      const check = async ({ id, employeeId }: { id: string; employeeId: string }): Promise<void> => {
        const instance = await call((node) => node.as(DEMO).get<InstanceView>(`/api/instances/${id}`));
        assert.equal(instance.body.status, 'completed', id);
        const reached = instance.body.elements.filter((e) => ends.includes(e.id) && e.status === 'completed').map((e) => e.id);
        assert.equal(reached.length, 1, `${id} reached ${reached.join(', ') || 'no end event'}`);
        const end = reached[0]!;
        counts[end] = (counts[end] ?? 0) + 1;
        assert.equal(end === 'SalaryRunFailed', employeeId === 'E-999', `${id} for ${employeeId} ended in ${end}`);

        const history = (await call((node) => node.as(DEMO).get<HistoryEvent[]>(`/api/instances/${id}/history`))).body;
        assert.deepEqual(
          history.map((e) => e.seq),
          history.map((_, i) => i + 1),
          `${id}: history is contiguous`,
        );
        assert.equal(history[0]?.type, 'instance.started', `${id}: history starts with the start`);
        assert.equal(history.at(-1)?.type, 'instance.completed', `${id}: history ends with the end`);
        const once = (type: string, key: (e: HistoryEvent) => unknown): void => {
          const seen = new Set<unknown>();
          for (const event of history.filter((e) => e.type === type)) {
            if (seen.has(key(event))) figures.duplicates++;
            seen.add(key(event));
          }
        };
        once('job.completed', (e) => e.data?.jobId);
        once('job.bpmnError', (e) => e.data?.jobId);
        once('task.completed', (e) => e.data?.taskId);
        once('element.completed', (e) => e.executionId);
      };
      const queue = [...runs];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let run = queue.shift(); run; run = queue.shift()) await check(run);
        }),
      );
      figures.duplicates += [...completions.values()].filter((n) => n > 1).length;
      console.log(
        `      multi-node figures: ${JSON.stringify({ ...figures, ends: counts, runsPerSecond: +(INSTANCES / figures.durationSeconds).toFixed(2) })}`,
      );
      assert.equal(figures.duplicates, 0, 'no work was done twice');
      assert.equal(counts.SalaryRunFailed, Math.floor(INSTANCES / FAILING_EVERY));
    });
  });
});
