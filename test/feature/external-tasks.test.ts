import assert from 'node:assert/strict';
import { DEMO, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';

const PROCESS = bpmn(
  'charge',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Charge" />
    <bpmn:serviceTask id="Charge" name="Charge card" camunda:type="external" camunda:topic="payments.charge" />
    <bpmn:boundaryEvent id="Declined" attachedToRef="Charge">
      <bpmn:errorEventDefinition errorRef="CardDeclined" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Charge" targetRef="Charged" />
    <bpmn:endEvent id="Charged" />
    <bpmn:sequenceFlow id="f3" sourceRef="Declined" targetRef="NotCharged" />
    <bpmn:endEvent id="NotCharged" />`,
  '<bpmn:error id="CardDeclined" name="Card declined" errorCode="DECLINED" />',
);

Feature('External tasks follow Camunda\'s fetch-and-lock contract', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), PROCESS);
  });
  after(() => t.close());

  const start = async (): Promise<string> =>
    (await t.as(DEMO).post('/api/processes/charge/instances').send({ variables: { amount: 10 } }).expect(201)).body.id;
  const instance = async (id: string) => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;

  Scenario('a task is delivered to one worker at a time and only the lock holder finishes it', () => {
    let id: string;
    let taskId: string;
    Given('an instance waits at a service task', async () => {
      id = await start();
    });
    When('worker A locks it', async () => {
      const tasks = await fetchTasks(t.as(WORKER), 'payments.charge', 'A', 10, 10_000);
      assert.deepEqual(tasks.map((task) => task.instanceId), [id]);
      taskId = tasks[0]!.id;
      assert.equal(tasks[0]!.variables.amount, 10);
    });
    Then('worker B gets nothing while the lock holds', async () => {
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'payments.charge', 'B'), []);
    });
    And('B may not complete it', async () => {
      const res = await t.as(WORKER).post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'B' }).expect(409);
      assert.equal(res.type, 'application/problem+json');
      assert.equal((await instance(id)).status, 'running');
    });
    When('the lock expires, B gets it', async () => {
      t.advance(10_001);
      const tasks = await fetchTasks(t.as(WORKER), 'payments.charge', 'B');
      assert.deepEqual(tasks.map((task) => task.id), [taskId]);
    });
    Then('A\'s late completion is refused and B\'s is taken', async () => {
      await t.as(WORKER).post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'A' }).expect(409);
      await t.as(WORKER).post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'B', variables: { receipt: 'R-1' } }).expect(204);
      const done = await instance(id);
      assert.equal(done.status, 'completed');
      assert.equal(done.variables.receipt, 'R-1');
    });
    And('completing it again is a conflict', async () => {
      const res = await t.as(WORKER).post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'B' }).expect(409);
      assert.match(res.body.detail, /no longer open/);
    });
  });

  Scenario('failures are retried after a back-off and become an incident when retries run out', () => {
    let id: string;
    let taskId: string;
    Given('a locked task', async () => {
      id = await start();
      taskId = (await fetchTasks(t.as(WORKER), 'payments.charge', 'A'))[0]!.id;
    });
    When('the worker reports a failure with 1 retry left and a 5 s back-off', async () => {
      await t.as(WORKER)
        .post(`/api/external-tasks/${taskId}/failure`)
        .send({ workerId: 'A', errorMessage: 'gateway timeout', retries: 1, retryTimeout: 5000 })
        .expect(204);
    });
    Then('it is offered again only after the back-off, with its retries', async () => {
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'payments.charge', 'A'), []);
      t.advance(5001);
      const again = await fetchTasks(t.as(WORKER), 'payments.charge', 'A');
      assert.equal(again[0]?.id, taskId);
      assert.equal(again[0]?.retries, 1);
    });
    When('it fails with no retries left', async () => {
      await t.as(WORKER)
        .post(`/api/external-tasks/${taskId}/failure`)
        .send({ workerId: 'A', errorMessage: 'card service down', retries: 0 })
        .expect(204);
    });
    Then('the instance shows an incident and the task is not offered', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'running');
      assert.equal(shown.externalTasks[0].incident, 'card service down');
      t.advance(60_000);
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'payments.charge', 'A'), []);
      const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body;
      assert.ok(history.some((event: { type: string }) => event.type === 'incident.created'));
    });
  });

  Scenario('a BPMN error is caught by the boundary event with its code', () => {
    let id: string;
    Given('a locked task', async () => {
      id = await start();
      const [task] = await fetchTasks(t.as(WORKER), 'payments.charge', 'A');
      await t.as(WORKER).post(`/api/external-tasks/${task!.id}/bpmn-error`).send({ workerId: 'A', errorCode: 'DECLINED', errorMessage: 'insufficient funds' }).expect(204);
    });
    Then('the instance takes the error path', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      const status = (el: string) => shown.elements.find((e: { id: string }) => e.id === el)?.status;
      assert.equal(status('NotCharged'), 'completed');
      assert.equal(status('Charged'), undefined);
      assert.equal(status('Charge'), 'failed');
    });
  });

  Scenario('an uncaught BPMN error becomes an incident, not a silent end', () => {
    let id: string;
    let taskId: string;
    Given('a task whose error code no boundary event catches', async () => {
      id = await start();
      const [task] = await fetchTasks(t.as(WORKER), 'payments.charge', 'A');
      taskId = task!.id;
      await t.as(WORKER).post(`/api/external-tasks/${taskId}/bpmn-error`).send({ workerId: 'A', errorCode: 'OTHER', errorMessage: 'unexpected answer' }).expect(204);
    });
    Then('the instance keeps running with an incident naming the error', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'running');
      assert.match(shown.externalTasks[0].incident, /^BPMN error OTHER \(unexpected answer\) is not caught/);
      assert.deepEqual(shown.incidents.map((incident: { id: string }) => incident.id), [taskId]);
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'payments.charge', 'A'), []);
    });
    When('an operator retries it and the worker now declines the card', async () => {
      await t.as(DEMO).post(`/api/incidents/${taskId}/retry`).send({}).expect(204);
      const [again] = await fetchTasks(t.as(WORKER), 'payments.charge', 'A');
      assert.equal(again?.id, taskId);
      await t.as(WORKER).post(`/api/external-tasks/${taskId}/bpmn-error`).send({ workerId: 'A', errorCode: 'DECLINED' }).expect(204);
    });
    Then('the boundary event catches it', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'NotCharged')?.status, 'completed');
    });
  });

  Scenario('extend-lock keeps a task with its worker', () => {
    Given('a task locked for 1 s and extended to 60 s', async () => {
      await start();
      const [task] = await fetchTasks(t.as(WORKER), 'payments.charge', 'A', 1, 1000);
      await t.as(WORKER).post(`/api/external-tasks/${task!.id}/extend-lock`).send({ workerId: 'A', newDuration: 60_000 }).expect(204);
      t.advance(2000);
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'payments.charge', 'B'), []);
      await t.as(WORKER).post(`/api/external-tasks/${task!.id}/extend-lock`).send({ workerId: 'B', newDuration: 1000 }).expect(409);
      await t.as(WORKER).post(`/api/external-tasks/${task!.id}/complete`).send({ workerId: 'A' }).expect(204);
    });
  });

  Scenario('long polling answers as soon as work arrives', () => {
    Given('a worker waits with asyncResponseTimeout 10 s', async () => {
      const poll = t.as(WORKER)
        .post('/api/external-tasks/fetch-and-lock')
        .send({ workerId: 'P', maxTasks: 1, asyncResponseTimeout: 10_000, topics: [{ topicName: 'payments.charge', lockDuration: 1000 }] });
      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const id = await start();
      const res = await poll.expect(200);
      assert.equal(res.body[0]?.instanceId, id);
      assert.ok(Date.now() - started < 5000, 'answered before the timeout');
    });
  });

  Scenario('bad requests are refused with a problem', () => {
    Then('each names what is wrong', async () => {
      const cases: [object, string][] = [
        [{ maxTasks: 1, topics: [{ topicName: 'x' }] }, 'workerId'],
        [{ workerId: 'w', topics: [] }, 'topics'],
        [{ workerId: 'w', maxTasks: 0, topics: [{ topicName: 'x' }] }, 'maxTasks'],
        [{ workerId: 'w', topics: [{ lockDuration: 10 }] }, 'topicName'],
        [{ workerId: 'w', topics: [{ topicName: 'x' }], asyncResponseTimeout: -1 }, 'asyncResponseTimeout'],
      ];
      for (const [body, named] of cases) {
        const res = await t.as(WORKER).post('/api/external-tasks/fetch-and-lock').send(body).expect(400);
        assert.equal(res.type, 'application/problem+json');
        assert.match(res.body.detail, new RegExp(named));
      }
      await t.as(WORKER).post('/api/external-tasks/nope/complete').send({ workerId: 'w' }).expect(404);
      await t.as(WORKER).post('/api/external-tasks/fetch-and-lock').set('content-type', 'application/json').send('{"workerId":').expect(400);
    });
  });
});
