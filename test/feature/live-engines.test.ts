import assert from 'node:assert/strict';
import type { HistoryEvent } from '../helpers/api-types.ts';
import { DEMO, MARY, WORKER, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

/**
 * Each Baton process keeps the engines of the instances it ran last in memory and runs their next
 * event on them (BATON_LIVE_ENGINES). Two processes on one SQLite database show that a kept engine
 * is used only while it is current: when the other process moved the instance on, the stale
 * engine must not run — the instance is recovered from what was saved.
 */
Feature('A kept engine runs an instance only while it is current', () => {
  let a: TestBaton;
  let b: TestBaton;
  before(async () => {
    a = await startBaton();
    b = await startBaton({ env: { BATON_DATA_DIR: a.dataDir } });
    await deploy(a.as(DEMO), readProcess('processes/salary/salary.bpmn'), 'salary.bpmn');
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  Scenario('the other process completes one calculation in between', () => {
    let instanceId: string;
    Given('process A starts a salary run (and keeps its engine)', async () => {
      const res = await a.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-100' } }).expect(201);
      instanceId = res.body.id;
    });

    When('process B completes the salary base, then process A the bonus', async () => {
      const base = await fetchTasks(b.as(WORKER), 'accounting.salary-base');
      const bonus = await fetchTasks(b.as(WORKER), 'bonus.calculate');
      await b.as(WORKER).post(`/api/external-tasks/${base[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { salaryBase: 5200 } }).expect(204);
      await a.as(WORKER).post(`/api/external-tasks/${bonus[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { bonus: 520 } }).expect(204);
    });

    Then('both results count: the run waits at "Approve bonus" and no calculation is offered again', async () => {
      const instance = await a.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.variables.salaryBase, 5200);
      assert.equal(instance.body.variables.bonus, 520);
      const waiting = instance.body.elements.filter((element: { status: string }) => element.status === 'waiting').map((element: { id: string }) => element.id);
      assert.deepEqual(waiting, ['ApproveBonus']);
      assert.deepEqual(await fetchTasks(a.as(WORKER), 'accounting.salary-base'), []);
    });

    When('mary approves through B and A records the payroll', async () => {
      const tasks = await b.as(MARY).get(`/api/tasks?instanceId=${instanceId}`).expect(200);
      await b.as(MARY).post(`/api/tasks/${tasks.body.items[0].id}/complete`).send({ variables: { approved: true } }).expect(204);
      const payroll = await fetchTasks(a.as(WORKER), 'accounting.payroll');
      assert.equal(payroll.length, 1);
      await a.as(WORKER).post(`/api/external-tasks/${payroll[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { payrollId: 'PR-1' } }).expect(204);
    });

    Then('the run ends in "Salary paid", each step in its history once', async () => {
      const instance = await b.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'completed');
      const history = await b.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200);
      const completed = (history.body as HistoryEvent[]).filter((event) => event.type === 'element.completed').map((event) => event.elementId);
      for (const id of ['CalculateSalaryBase', 'CalculateBonus', 'JoinCalculations', 'ApproveBonus', 'RecordPayroll', 'SalaryPaid']) {
        assert.equal(completed.filter((done) => done === id).length, 1, id);
      }
    });
  });
});
