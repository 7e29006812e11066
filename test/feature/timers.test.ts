import assert from 'node:assert/strict';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

const DAY = 86_400_000;

const WAIT_40_DAYS = bpmn(
  'longWait',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Wait" />
    <bpmn:intermediateCatchEvent id="Wait" name="40 days">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P40D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Wait" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
);

const DEADLINE = bpmn(
  'deadline',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Work" />
    <bpmn:serviceTask id="Work" camunda:type="external" camunda:topic="slow.work" />
    <bpmn:boundaryEvent id="TooLate" attachedToRef="Work">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Work" targetRef="InTime" />
    <bpmn:endEvent id="InTime" />
    <bpmn:sequenceFlow id="f3" sourceRef="TooLate" targetRef="Late" />
    <bpmn:endEvent id="Late" />`,
);

Feature('Durable timers of any length', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), WAIT_40_DAYS, 'wait.bpmn');
    await deploy(t.as(DEMO), DEADLINE, 'deadline.bpmn');
    await deploy(t.as(DEMO), readProcess('processes/salary/salary.bpmn'), 'salary.bpmn');
  });
  after(() => t.close());
  const instance = async (id: string) => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;

  Scenario('a P40D timer fires after 40 days, not before', () => {
    let id: string;
    Given('an instance waits 40 days', async () => {
      id = (await t.as(DEMO).post('/api/processes/longWait/instances').send({}).expect(201)).body.id;
      const shown = await instance(id);
      assert.equal(shown.timers.length, 1);
      // the duration runs from when the catch event is entered, a few ms after the start
      const after = Date.parse(shown.timers[0].dueAt) - Date.parse(shown.startedAt) - 40 * DAY;
      assert.ok(after >= 0 && after < 1000, `due ${after} ms after start + 40 days`);
    });
    When('39 days pass', async () => {
      t.advance(39 * DAY);
      await t.baton.scheduler.tick();
    });
    Then('it still waits', async () => {
      assert.equal((await instance(id)).status, 'running');
    });
    When('the 40th day passes', async () => {
      t.advance(DAY);
      assert.equal(await t.baton.scheduler.tick(), 1);
    });
    Then('the timer fired once and the instance completed', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body;
      assert.equal(history.filter((event: { type: string }) => event.type === 'timer.fired').length, 1);
      assert.equal(await t.baton.scheduler.tick(), 0);
    });
  });

  Scenario('an interrupting timer cancels the work that took too long', () => {
    Then('after an hour the external task is withdrawn and the late path is taken', async () => {
      const id = (await t.as(DEMO).post('/api/processes/deadline/instances').send({}).expect(201)).body.id;
      const [task] = await fetchTasks(t.as(WORKER), 'slow.work', 'W', 1, 2 * 3_600_000);
      t.advance(3_600_001);
      await t.baton.scheduler.tick();
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'Late')?.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'Work')?.status, 'cancelled');
      await t.as(WORKER).post(`/api/external-tasks/${task!.id}/complete`).send({ workerId: 'W' }).expect(409);
    });
  });

  Scenario('the salary approval reminder fires after two days and the task stays open', () => {
    let id: string;
    Given('a salary run waits for approval', async () => {
      id = (await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-101' } }).expect(201)).body.id;
      for (const topic of ['accounting.salary-base', 'bonus.calculate']) {
        const [task] = await fetchTasks(t.as(WORKER), topic, 'W');
        await t.as(WORKER).post(`/api/external-tasks/${task!.id}/complete`).send({ workerId: 'W', variables: { [topic.startsWith('bonus') ? 'bonus' : 'salaryBase']: 100 } }).expect(204);
      }
      assert.equal((await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body.total, 1);
    });
    When('two days pass', async () => {
      t.advance(2 * DAY + 1);
      await t.baton.scheduler.tick();
    });
    Then('managers are reminded and can still approve', async () => {
      const reminders = await fetchTasks(t.as(WORKER), 'notify.email', 'W');
      assert.deepEqual(reminders.map((task) => task.instanceId), [id]);
      await t.as(WORKER).post(`/api/external-tasks/${reminders[0]!.id}/complete`).send({ workerId: 'W' }).expect(204);
      const tasks = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body;
      assert.equal(tasks.total, 1);
      await t.as(MARY).post(`/api/tasks/${tasks.items[0].id}/complete`).send({ variables: { approved: false } }).expect(204);
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'BonusRejected')?.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'ManagersReminded')?.status, 'completed');
    });
  });
});
