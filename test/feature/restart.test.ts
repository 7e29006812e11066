import assert from 'node:assert/strict';
import {
  DEMO,
  MARY,
  WORKER,
  makeDataDir,
  removeDataDir,
  spawnServer,
  type Client,
  type LogLine,
  type ServerProcess,
} from '../helpers/server-process.ts';
import type { HistoryEvent, LockedTask } from '../helpers/api-types.ts';

const SALARY_BASE: Record<string, number> = { 'E-100': 5200, 'E-101': 6100, 'E-102': 4800 };
const BONUS: Record<string, number> = { 'E-100': 520, 'E-101': 915, 'E-102': 500 };

Feature('Salary runs survive kill -9 of the Baton process', function (this: Mocha.Suite) {
  this.timeout(60_000);
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.kill9()));
    dataDirs.forEach(removeDataDir);
  });
  const newDataDir = (): string => {
    const dir = makeDataDir();
    dataDirs.push(dir);
    return dir;
  };
  const spawn = async (dataDir: string): Promise<ServerProcess> => {
    const server = await spawnServer({ dataDir, demo: 'users' });
    servers.push(server);
    return server;
  };

  Scenario('runs wait through two crashes, expired locks and a late worker, and finish once', () => {
    const LOCK_MS = 6_000;
    let dataDir: string;
    let server: ServerProcess;
    const employees = Object.keys(SALARY_BASE);
    const instanceIds = new Map<string, string>();
    let lockedByA: LockedTask[] = [];
    const lockedByB: LockedTask[] = [];
    let approvalTaskIds: string[] = [];

    Given('a Baton process (demo users, no demo workers) with salary runs for E-100, E-101 and E-102', async () => {
      dataDir = newDataDir();
      server = await spawn(dataDir);
      for (const employeeId of employees) {
        const res = await server.as(DEMO).post('/api/processes/salary/instances', { variables: { employeeId } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.status, 'running');
        instanceIds.set(employeeId, res.body.id);
      }
    });

    And(`worker A holds the salary-base tasks with a ${LOCK_MS} ms lock and the bonus tasks are done`, async () => {
      lockedByA = await fetchAndLock(server.as(WORKER), 'worker-a', 'accounting.salary-base', LOCK_MS);
      assert.deepEqual(lockedByA.map((task) => task.instanceId).sort(), [...instanceIds.values()].sort());
      const bonus = await fetchAndLock(server.as(WORKER), 'bonus-worker', 'bonus.calculate', 60_000);
      assert.equal(bonus.length, employees.length);
      for (const task of bonus) {
        const bonusValue = BONUS[String(task.variables.employeeId)];
        const res = await server.as(WORKER).post(`/api/external-tasks/${task.id}/complete`, { workerId: 'bonus-worker', variables: { bonus: bonusValue } });
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
    });

    When('Baton is killed with SIGKILL and started again on the same data directory', async () => {
      const exit = await server.kill9();
      assert.equal(exit.signal, 'SIGKILL');
      server = await spawn(dataDir);
    });

    Then("the runs are all still running, with their bonus recorded and worker A's locks intact", async () => {
      const list = await server.as(DEMO).get('/api/instances?processKey=salary');
      assert.equal(list.body.total, employees.length);
      const salary = await server.as(DEMO).get('/api/processes/salary');
      assert.equal(salary.body.versions.length, 1, 'the restart deployed the unchanged salary process again');
      for (const [employeeId, id] of instanceIds) {
        const instance = (await server.as(DEMO).get(`/api/instances/${id}`)).body;
        assert.equal(instance.status, 'running');
        assert.equal(instance.variables.bonus, BONUS[employeeId]);
        assert.equal(elementStatus(instance, 'CalculateBonus'), 'completed');
        assert.deepEqual(
          instance.externalTasks.map((task: { topic: string; lockedBy: string | null }) => [task.topic, task.lockedBy]),
          [['accounting.salary-base', 'worker-a']],
        );
      }
      const firstExpiry = Math.min(...lockedByA.map((task) => Date.parse(task.lockExpiresAt)));
      assert.ok(Date.now() < firstExpiry - 500, 'the restart took so long that the locks are about to expire: raise LOCK_MS');
      assert.deepEqual(await fetchAndLock(server.as(WORKER), 'worker-b', 'accounting.salary-base', 60_000), []);
    });

    When("worker A's locks expire and worker B keeps fetching salary-base tasks", async () => {
      const deadline = Date.now() + LOCK_MS + 10_000;
      while (lockedByB.length < lockedByA.length && Date.now() < deadline) {
        lockedByB.push(...(await fetchAndLock(server.as(WORKER), 'worker-b', 'accounting.salary-base', 60_000, 5_000)));
      }
    });

    Then("worker B gets exactly worker A's tasks, each once, and only after A's locks expired", async () => {
      assert.deepEqual(lockedByB.map((task) => task.id).sort(), lockedByA.map((task) => task.id).sort());
      const expiryOfA = new Map(lockedByA.map((task) => [task.id, Date.parse(task.lockExpiresAt)]));
      for (const task of lockedByB) {
        const lockedAt = Date.parse(task.lockExpiresAt) - 60_000;
        assert.ok(lockedAt >= (expiryOfA.get(task.id) ?? Infinity), `task <${task.id}> was relocked before worker A's lock expired`);
      }
      assert.deepEqual(await fetchAndLock(server.as(WORKER), 'worker-c', 'accounting.salary-base', 60_000), []);
    });

    And("worker A's late completion is refused with 409 problem+json and changes nothing", async () => {
      const late = lockedByB[0] as LockedTask;
      const res = await server.as(WORKER).post(`/api/external-tasks/${late.id}/complete`, { workerId: 'worker-a', variables: { salaryBase: 1 } });
      assert.equal(res.status, 409);
      assert.match(res.type, /^application\/problem\+json/);
      assert.equal(res.body.status, 409);
      assert.equal(res.body.title, 'Conflict');
      const instance = (await server.as(DEMO).get(`/api/instances/${late.instanceId}`)).body;
      assert.equal(instance.variables.salaryBase, undefined);
      assert.equal(instance.externalTasks[0]?.lockedBy, 'worker-b');
    });

    When('worker B completes the salary-base tasks', async () => {
      for (const task of lockedByB) {
        const salaryBase = SALARY_BASE[String(task.variables.employeeId)];
        const res = await server.as(WORKER).post(`/api/external-tasks/${task.id}/complete`, { workerId: 'worker-b', variables: { salaryBase } });
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
    });

    Then('managers see an "Approve bonus" task for each run', async () => {
      const tasks = (await server.as(MARY).get('/api/tasks?candidateGroup=managers')).body.items as { id: string; name: string; instanceId: string }[];
      assert.deepEqual(tasks.map((task) => task.instanceId).sort(), [...instanceIds.values()].sort());
      assert.ok(tasks.every((task) => task.name === 'Approve bonus'));
      approvalTaskIds = tasks.map((task) => task.id).sort();
    });

    When('Baton is killed with SIGKILL again while the approvals wait, and started again', async () => {
      await server.kill9();
      server = await spawn(dataDir);
    });

    Then('mary finds the same approval tasks and approves every bonus', async () => {
      const tasks = (await server.as(MARY).get('/api/tasks?candidateGroup=managers')).body.items as { id: string }[];
      assert.deepEqual(tasks.map((task) => task.id).sort(), approvalTaskIds);
      for (const id of approvalTaskIds) {
        const res = await server.as(MARY).post(`/api/tasks/${id}/complete`, { variables: { approved: true } });
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
    });

    When('the payroll worker records each payroll', async () => {
      const payroll = await fetchAndLock(server.as(WORKER), 'payroll-worker', 'accounting.payroll', 60_000);
      assert.deepEqual(payroll.map((task) => task.instanceId).sort(), [...instanceIds.values()].sort());
      for (const task of payroll) {
        const res = await server.as(WORKER).post(`/api/external-tasks/${task.id}/complete`, { workerId: 'payroll-worker', variables: { payrollId: `PR-${task.variables.employeeId}` } });
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
    });

    Then('every run ends in "Salary paid", numbered from 1 in its history, with each element completed once', async () => {
      for (const [employeeId, id] of instanceIds) {
        const instance = (await server.as(DEMO).get(`/api/instances/${id}`)).body;
        assert.equal(instance.status, 'completed');
        assert.equal(elementStatus(instance, 'SalaryPaid'), 'completed');
        assert.deepEqual(
          { salaryBase: instance.variables.salaryBase, bonus: instance.variables.bonus, payrollId: instance.variables.payrollId },
          { salaryBase: SALARY_BASE[employeeId], bonus: BONUS[employeeId], payrollId: `PR-${employeeId}` },
        );
        const history = (await server.as(DEMO).get(`/api/instances/${id}/history`)).body as HistoryEvent[];
        assertCleanHistory(history);
        assert.equal(history.at(-1)?.type, 'instance.completed');
        const salaryBaseLocks = history.filter((event) => event.type === 'job.locked' && event.elementId === 'CalculateSalaryBase');
        // the account that took each lock, and the worker id it presented
        assert.deepEqual(salaryBaseLocks.map((event) => [event.user, event.data?.workerId]), [['worker', 'worker-a'], ['worker', 'worker-b']]);
      }
    });
  });

  Scenario('a crash in the middle of a burst of approvals loses none and does none twice', () => {
    const RUNS = 10;
    let dataDir: string;
    let server: ServerProcess;
    let approvals: { taskId: string; instanceId: string }[] = [];
    let replies: { taskId: string; status: number | 'no answer' }[] = [];

    Given(`${RUNS} salary runs waiting at "Approve bonus"`, async () => {
      dataDir = newDataDir();
      server = await spawn(dataDir);
      for (let i = 0; i < RUNS; i++) {
        const res = await server.as(DEMO).post('/api/processes/salary/instances', { variables: { employeeId: 'E-100' } });
        assert.equal(res.status, 201);
      }
      for (const [topic, variables] of [['accounting.salary-base', { salaryBase: 5200 }], ['bonus.calculate', { bonus: 520 }]] as const) {
        const tasks = await fetchAndLock(server.as(WORKER), 'calculator', topic, 60_000, 0, RUNS);
        assert.equal(tasks.length, RUNS);
        for (const task of tasks) {
          assert.equal((await server.as(WORKER).post(`/api/external-tasks/${task.id}/complete`, { workerId: 'calculator', variables })).status, 204);
        }
      }
      const tasks = (await server.as(MARY).get('/api/tasks?candidateGroup=managers')).body.items as { id: string; instanceId: string }[];
      assert.equal(tasks.length, RUNS);
      approvals = tasks.map((task) => ({ taskId: task.id, instanceId: task.instanceId }));
    });

    When('mary sends two completions per task at once and Baton is killed with SIGKILL once three have succeeded', async () => {
      const burst = approvals.flatMap(({ taskId }) =>
        [1, 2].map(() =>
          server
            .as(MARY)
            .post(`/api/tasks/${taskId}/complete`, { variables: { approved: true } })
            .then((res) => ({ taskId, status: res.status }), () => ({ taskId, status: 'no answer' as const })),
        ),
      );
      let succeeded = 0;
      const completed = (line: LogLine): boolean => line.msg === 'request' && /^\/api\/tasks\/[^/]+\/complete$/.test(String(line.path)) && line.status === 204;
      await server.waitForLog((line) => completed(line) && ++succeeded === 3);
      await server.kill9();
      replies = await Promise.all(burst);
    });

    Then('the crash cut the burst short', () => {
      assert.ok(replies.some((reply) => reply.status === 'no answer'), `every request was answered before the kill: ${JSON.stringify(replies)}`);
      assert.ok(replies.every((reply) => reply.status === 204 || reply.status === 409 || reply.status === 'no answer'), JSON.stringify(replies));
      for (const { taskId } of approvals) {
        const successes = replies.filter((reply) => reply.taskId === taskId && reply.status === 204);
        assert.ok(successes.length <= 1, `task <${taskId}> was acknowledged twice`);
      }
    });

    When('Baton is started again on the same data directory', async () => {
      server = await spawn(dataDir);
    });

    Then('every answered completion is recorded once, and each run is either still at the approval or past it', async () => {
      for (const { taskId, instanceId } of approvals) {
        const history = (await server.as(DEMO).get(`/api/instances/${instanceId}/history`)).body as HistoryEvent[];
        assertCleanHistory(history);
        const completions = history.filter((event) => event.type === 'task.completed' && event.data?.taskId === taskId).length;
        const answered = replies.some((reply) => reply.taskId === taskId && reply.status !== 'no answer');
        if (answered) assert.equal(completions, 1, `task <${taskId}> was acknowledged but its completion was lost`);
        const instance = (await server.as(DEMO).get(`/api/instances/${instanceId}`)).body;
        assert.equal(instance.status, 'running');
        const open = instance.tasks.map((task: { id: string }) => task.id);
        const jobs = instance.externalTasks.map((job: { elementId: string }) => job.elementId);
        if (completions === 1) {
          assert.deepEqual({ open, jobs, approval: elementStatus(instance, 'ApproveBonus') }, { open: [], jobs: ['RecordPayroll'], approval: 'completed' });
        } else {
          assert.deepEqual({ open, jobs, approval: elementStatus(instance, 'ApproveBonus') }, { open: [taskId], jobs: [], approval: 'waiting' });
        }
      }
    });

    When('mary completes each approval still open, once; a second try is refused', async () => {
      const open = (await server.as(MARY).get('/api/tasks?candidateGroup=managers')).body.items as { id: string }[];
      const done = approvals.filter(({ taskId }) => !open.some((task) => task.id === taskId));
      assert.equal(open.length + done.length, RUNS);
      for (const { id } of open) {
        assert.equal((await server.as(MARY).post(`/api/tasks/${id}/complete`, { variables: { approved: true } })).status, 204);
      }
      for (const { taskId } of approvals) {
        const again = await server.as(MARY).post(`/api/tasks/${taskId}/complete`, { variables: { approved: true } });
        assert.equal(again.status, 409, `task <${taskId}> could be completed again`);
        assert.match(again.type, /^application\/problem\+json/);
      }
    });

    And('the payroll worker records each payroll', async () => {
      const payroll = await fetchAndLock(server.as(WORKER), 'payroll-worker', 'accounting.payroll', 60_000, 0, RUNS + 5);
      assert.deepEqual(payroll.map((task) => task.instanceId).sort(), approvals.map((a) => a.instanceId).sort());
      for (const task of payroll) {
        assert.equal((await server.as(WORKER).post(`/api/external-tasks/${task.id}/complete`, { workerId: 'payroll-worker', variables: { payrollId: 'PR-1' } })).status, 204);
      }
    });

    Then('every run ends in "Salary paid" with its approval completed exactly once', async () => {
      for (const { taskId, instanceId } of approvals) {
        const instance = (await server.as(DEMO).get(`/api/instances/${instanceId}`)).body;
        assert.equal(instance.status, 'completed');
        assert.equal(elementStatus(instance, 'SalaryPaid'), 'completed');
        const history = (await server.as(DEMO).get(`/api/instances/${instanceId}/history`)).body as HistoryEvent[];
        assertCleanHistory(history);
        assert.equal(history.filter((event) => event.type === 'task.completed' && event.data?.taskId === taskId).length, 1);
        assert.equal(history.filter((event) => event.type === 'element.completed' && event.elementId === 'RecordPayroll').length, 1);
      }
    });
  });
});

/** Fetch-and-lock of one topic as a worker; waits up to asyncResponseTimeout ms for tasks. */
async function fetchAndLock(worker: Client, workerId: string, topicName: string, lockDuration: number, asyncResponseTimeout = 0, maxTasks = 10): Promise<LockedTask[]> {
  const res = await worker.post('/api/external-tasks/fetch-and-lock', { workerId, maxTasks, asyncResponseTimeout, topics: [{ topicName, lockDuration }] });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as LockedTask[];
}

/** The status of an element of an instance view (the only run of it), or undefined. */
function elementStatus(instance: { elements: { id: string; status: string }[] }, elementId: string): string | undefined {
  const runs = instance.elements.filter((element) => element.id === elementId);
  assert.ok(runs.length <= 1, `<${elementId}> ran ${runs.length} times`);
  return runs[0]?.status;
}

/** History is numbered 1, 2, 3 …; no element execution, task or job completed twice. */
function assertCleanHistory(history: HistoryEvent[]): void {
  assert.deepEqual(
    history.map((event) => event.seq),
    history.map((_, index) => index + 1),
  );
  const twice = (type: string, key: (event: HistoryEvent) => unknown): unknown[] => {
    const keys = history.filter((event) => event.type === type).map(key);
    return keys.filter((value, index) => keys.indexOf(value) !== index);
  };
  assert.deepEqual(twice('element.completed', (event) => event.executionId), [], 'an element execution completed twice');
  assert.deepEqual(twice('task.completed', (event) => event.data?.taskId), [], 'a user task completed twice');
  assert.deepEqual(twice('job.completed', (event) => event.data?.jobId), [], 'an external task completed twice');
}
