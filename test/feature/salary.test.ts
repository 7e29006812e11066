import assert from 'node:assert/strict';
import { DEMO, MARY, WORKER, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

Feature('The salary process runs end to end', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), readProcess('processes/salary/salary.bpmn'), 'salary.bpmn');
  });
  after(() => t.close());

  Scenario('a known employee is paid after a manager approves the bonus', () => {
    let instanceId: string;
    Given('a salary run is started for employee E-100', async () => {
      const res = await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-100' } }).expect(201);
      instanceId = res.body.id;
      assert.equal(res.body.status, 'running');
    });

    When('the accounting and bonus systems both got their work at the same time', async () => {
      const base = await fetchTasks(t.as(WORKER), 'accounting.salary-base');
      const bonus = await fetchTasks(t.as(WORKER), 'bonus.calculate');
      assert.deepEqual(base.map((task) => task.instanceId), [instanceId]);
      assert.deepEqual(bonus.map((task) => task.instanceId), [instanceId]);
      assert.equal(base[0]?.variables.employeeId, 'E-100');
      await t.as(WORKER).post(`/api/external-tasks/${base[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { salaryBase: 5200 } }).expect(204);
      await t.as(WORKER).post(`/api/external-tasks/${bonus[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { bonus: 520 } }).expect(204);
    });

    Then('managers see "Approve bonus" with both amounts computed', async () => {
      const tasks = await t.as(MARY).get('/api/tasks?candidateGroup=managers').expect(200);
      const task = tasks.body.items.find((item: { instanceId: string }) => item.instanceId === instanceId);
      assert.equal(task.name, 'Approve bonus');
      assert.deepEqual(task.formFields.map((field: { id: string }) => field.id), ['approved', 'comment']);
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.variables.salaryBase, 5200);
      assert.equal(instance.body.variables.bonus, 520);
      const approve = instance.body.elements.find((element: { id: string }) => element.id === 'ApproveBonus');
      assert.equal(approve.status, 'waiting');
    });

    When('mary approves it and the payroll is recorded', async () => {
      const tasks = await t.as(MARY).get(`/api/tasks?instanceId=${instanceId}`).expect(200);
      await t.as(MARY).post(`/api/tasks/${tasks.body.items[0].id}/complete`).send({ variables: { approved: true, comment: 'ok' } }).expect(204);
      const payroll = await fetchTasks(t.as(WORKER), 'accounting.payroll');
      await t.as(WORKER).post(`/api/external-tasks/${payroll[0]?.id}/complete`).send({ workerId: 'test-worker', variables: { payrollId: 'PR-1' } }).expect(204);
    });

    Then('the instance ends in "Salary paid"', async () => {
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'completed');
      const paid = instance.body.elements.find((element: { id: string }) => element.id === 'SalaryPaid');
      assert.equal(paid?.status, 'completed');
      assert.equal(instance.body.elements.some((element: { id: string }) => element.id === 'SalaryRunFailed'), false);
      const history = await t.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200);
      const seqs = history.body.map((event: { seq: number }) => event.seq);
      assert.deepEqual(seqs, seqs.map((_: number, i: number) => i + 1));
      assert.equal(history.body.at(-1).type, 'instance.completed');
      assert.ok(history.body.some((event: { type: string; user?: string }) => event.type === 'task.completed' && event.user === 'mary'));
    });
  });

  Scenario('an unknown employee ends in "Salary run failed"', () => {
    let instanceId: string;
    Given('a salary run for employee E-999', async () => {
      const res = await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-999' } }).expect(201);
      instanceId = res.body.id;
    });

    When('the bonus system reports a BPMN error while the salary base is still being computed', async () => {
      await fetchTasks(t.as(WORKER), 'accounting.salary-base', 'accounting');
      const bonus = await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus');
      await t.as(WORKER)
        .post(`/api/external-tasks/${bonus[0]?.id}/bpmn-error`)
        .send({ workerId: 'bonus', errorCode: 'EMPLOYEE_UNKNOWN', errorMessage: 'no employee E-999' })
        .expect(204);
    });

    Then('the salary base calculation is withdrawn at once', async () => {
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      const status = (id: string) => instance.body.elements.find((element: { id: string }) => element.id === id)?.status;
      assert.equal(instance.body.status, 'running');
      assert.equal(status('CalculateSalaryBase'), 'cancelled');
      assert.equal(status('CalculateSalary'), 'failed');
      assert.deepEqual(instance.body.externalTasks.map((task: { topic: string }) => task.topic), ['notify.sms']);
    });

    Then('no approval is asked and the administrator gets an SMS task', async () => {
      const tasks = await t.as(MARY).get(`/api/tasks?instanceId=${instanceId}`).expect(200);
      assert.equal(tasks.body.total, 0);
      const sms = await fetchTasks(t.as(WORKER), 'notify.sms', 'sms');
      assert.deepEqual(sms.map((task) => task.instanceId), [instanceId]);
      await t.as(WORKER).post(`/api/external-tasks/${sms[0]?.id}/complete`).send({ workerId: 'sms' }).expect(204);
    });

    Then('the instance ends in "Salary run failed" and the calculation is cancelled', async () => {
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'completed');
      const status = (id: string) => instance.body.elements.find((element: { id: string }) => element.id === id)?.status;
      assert.equal(status('SalaryRunFailed'), 'completed');
      assert.equal(status('CalculateBonus'), 'failed');
      assert.equal(status('CalculateSalaryBase'), 'cancelled');
      assert.equal(status('ApproveBonus'), undefined);
      assert.equal(instance.body.externalTasks.length, 0);
    });
  });
});
