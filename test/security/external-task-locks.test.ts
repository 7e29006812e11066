/**
 * An external-task lock belongs to the account that took it as well as to its worker id (issue 15,
 * finding 8): another worker account that knows the worker id may not complete, fail, extend or
 * unlock the task, on Baton's API or Camunda's; an admin may. The history names the account and
 * the worker id of each report.
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { hashSecret } from '../../server/auth/secrets.ts';
import type { StoredUser } from '../../server/auth/users.ts';
import { DEMO, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';

const WENDY = { user: 'wendy', password: 'wendy-password' };

const PROCESS = bpmn(
  'charge',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Charge" />
    <bpmn:serviceTask id="Charge" camunda:type="external" camunda:topic="payments.charge" />
    <bpmn:boundaryEvent id="Declined" attachedToRef="Charge"><bpmn:errorEventDefinition errorRef="CardDeclined" /></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Charge" targetRef="Charged" />
    <bpmn:endEvent id="Charged" />
    <bpmn:sequenceFlow id="f3" sourceRef="Declined" targetRef="NotCharged" />
    <bpmn:endEvent id="NotCharged" />`,
  '<bpmn:error id="CardDeclined" errorCode="DECLINED" />',
);

interface HistoryEvent {
  type: string;
  user?: string;
  data?: { workerId?: string };
}

Feature('An external-task lock belongs to the account that took it', () => {
  let t: TestBaton;
  before(async () => {
    const wendy: StoredUser = { name: WENDY.user, passwordHash: await hashSecret(WENDY.password), tokenHashes: [], groups: [], roles: ['worker'] };
    t = await startBaton({ users: [wendy] });
    await deploy(t.as(DEMO), PROCESS);
  });
  after(() => t.close());

  const start = async (): Promise<string> => (await t.as(DEMO).post('/api/processes/charge/instances').send({}).expect(201)).body.id;
  const instance = async (id: string) => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
  const history = async (id: string): Promise<HistoryEvent[]> => (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body;
  const forbidden = (res: Response): void => {
    assert.equal(res.status, 403, res.text);
    assert.equal(res.type, 'application/problem+json');
    assert.match(res.body.detail, /locked by another account/);
  };

  /** an instance whose task the account `worker` locked as worker id `w` */
  const lockedByWorker = async (): Promise<{ id: string; taskId: string }> => {
    const id = await start();
    const tasks = await fetchTasks(t.as(WORKER), 'payments.charge', 'w', 10, 60_000);
    const task = tasks.find((locked) => locked.instanceId === id);
    assert.ok(task);
    return { id, taskId: task.id };
  };

  Scenario('on Baton\'s API, another worker account with the same worker id is 403 and changes nothing', () => {
    let id: string;
    let taskId: string;
    let before: unknown;
    Given('the account worker locked a task as worker id w', async () => {
      ({ id, taskId } = await lockedByWorker());
      before = { instance: await instance(id), history: await history(id) };
    });
    When('the account wendy reports on it as w: complete, failure, bpmn-error, extend-lock, unlock', async () => {
      const as = t.as(WENDY);
      forbidden(await as.post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'w', variables: { receipt: 'forged' } }));
      forbidden(await as.post(`/api/external-tasks/${taskId}/failure`).send({ workerId: 'w', errorMessage: 'forged', retries: 0 }));
      forbidden(await as.post(`/api/external-tasks/${taskId}/bpmn-error`).send({ workerId: 'w', errorCode: 'DECLINED' }));
      forbidden(await as.post(`/api/external-tasks/${taskId}/extend-lock`).send({ workerId: 'w', newDuration: 600_000 }));
      forbidden(await as.post(`/api/external-tasks/${taskId}/unlock`).send({}));
    });
    Then('each is 403 and the instance and its history are as before', async () => {
      assert.deepEqual({ instance: await instance(id), history: await history(id) }, before);
    });
    When('the account worker completes it as w', async () => {
      await t.as(WORKER).post(`/api/external-tasks/${taskId}/complete`).send({ workerId: 'w', variables: { receipt: 'R-1' } }).expect(204);
    });
    Then('the instance completes and the history names the account and the worker id of the lock and the completion', async () => {
      const done = await instance(id);
      assert.equal(done.status, 'completed');
      assert.equal(done.variables.receipt, 'R-1');
      const reports = (await history(id)).filter((event) => /^job\.(locked|completed|failed|unlocked|bpmnError)$/.test(event.type)).map(({ type, user, data }) => [type, user, data?.workerId]);
      assert.deepEqual(reports, [
        ['job.locked', 'worker', 'w'],
        ['job.completed', 'worker', 'w'],
      ]);
    });
  });

  Scenario('an admin may report on any lock, and the history names the admin', () => {
    Then('the admin fails one task as its worker id, unlocks another and completes a third', async () => {
      const failed = await lockedByWorker();
      await t.as(DEMO).post(`/api/external-tasks/${failed.taskId}/failure`).send({ workerId: 'w', errorMessage: 'stuck', retries: 3, retryTimeout: 3_600_000 }).expect(204);
      const failure = (await history(failed.id)).find((event) => event.type === 'job.failed');
      assert.deepEqual([failure?.user, failure?.data?.workerId], ['demo', 'w']);

      const unlocked = await lockedByWorker();
      await t.as(DEMO).post(`/api/external-tasks/${unlocked.taskId}/unlock`).send({}).expect(204);
      const event = (await history(unlocked.id)).find((e) => e.type === 'job.unlocked');
      assert.deepEqual([event?.user, event?.data?.workerId], ['demo', 'w']);
      // free again: wendy may take it now, under her own account
      assert.deepEqual((await fetchTasks(t.as(WENDY), 'payments.charge', 'w', 10)).map((task) => task.id), [unlocked.taskId]);
      await t.as(WENDY).post(`/api/external-tasks/${unlocked.taskId}/complete`).send({ workerId: 'w' }).expect(204);
      // and the failed one once its retry is due; then the admin completes it for her
      t.advance(3_600_000);
      assert.deepEqual((await fetchTasks(t.as(WENDY), 'payments.charge', 'w', 10)).map((task) => task.id), [failed.taskId]);
      forbidden(await t.as(WORKER).post(`/api/external-tasks/${failed.taskId}/complete`).send({ workerId: 'w' }));
      await t.as(DEMO).post(`/api/external-tasks/${failed.taskId}/complete`).send({ workerId: 'w' }).expect(204);
      assert.equal((await instance(failed.id)).status, 'completed');
      assert.equal((await instance(unlocked.id)).status, 'completed');
    });
  });

  Scenario('a lock that expired can be taken by another account, which then owns it', () => {
    Then('after the lock duration wendy locks the task and worker may no longer report on it', async () => {
      const id = await start();
      const [task] = (await fetchTasks(t.as(WORKER), 'payments.charge', 'w', 10, 1_000)).filter((locked) => locked.instanceId === id);
      assert.ok(task);
      t.advance(1_001);
      assert.deepEqual((await fetchTasks(t.as(WENDY), 'payments.charge', 'w', 10)).map((locked) => locked.id), [task.id]);
      forbidden(await t.as(WORKER).post(`/api/external-tasks/${task.id}/complete`).send({ workerId: 'w' }));
      await t.as(WENDY).post(`/api/external-tasks/${task.id}/complete`).send({ workerId: 'w' }).expect(204);
      const reports = (await history(id)).filter((event) => /^job\.(locked|completed|failed|unlocked|bpmnError)$/.test(event.type)).map(({ type, user }) => [type, user]);
      assert.deepEqual(reports, [
        ['job.locked', 'worker'],
        ['job.locked', 'wendy'],
        ['job.completed', 'wendy'],
      ]);
    });
  });

  Scenario('on Camunda\'s API, another worker account with the same worker id is 403 AuthorizationException', () => {
    Then('complete, failure, bpmnError, extendLock and unlock are refused as Camunda refuses an unauthorized call; the lock holder completes', async () => {
      const { id, taskId } = await lockedByWorker();
      const before = { instance: await instance(id), history: await history(id) };
      const as = t.as(WENDY);
      const calls: [string, object][] = [
        ['complete', { workerId: 'w', variables: { receipt: { value: 'forged' } } }],
        ['failure', { workerId: 'w', errorMessage: 'forged', retries: 0, retryTimeout: 0 }],
        ['bpmnError', { workerId: 'w', errorCode: 'DECLINED' }],
        ['extendLock', { workerId: 'w', newDuration: 600_000 }],
        ['unlock', {}],
      ];
      for (const [action, body] of calls) {
        const res = await as.post(`/engine-rest/external-task/${taskId}/${action}`).send(body);
        assert.equal(res.status, 403, `${action}: ${res.text}`);
        assert.equal(res.body.type, 'AuthorizationException', action);
        assert.match(res.body.message, /locked by another account/, action);
      }
      assert.deepEqual({ instance: await instance(id), history: await history(id) }, before);
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/complete`).send({ workerId: 'w' }).expect(204);
      const completed = (await history(id)).find((event) => event.type === 'job.completed');
      assert.deepEqual([completed?.user, completed?.data?.workerId], ['worker', 'w']);
    });
  });
});
