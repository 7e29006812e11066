import assert from 'node:assert/strict';
import { DEMO, MARY, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const PROCESS = bpmn(
  'leave',
  `<bpmn:startEvent id="Start">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="days" label="Days" type="long"><camunda:validation><camunda:constraint name="required" /><camunda:constraint name="min" config="1" /><camunda:constraint name="max" config="30" /></camunda:validation></camunda:formField>
        <camunda:formField id="reason" label="Reason" type="string"><camunda:validation><camunda:constraint name="maxlength" config="20" /></camunda:validation></camunda:formField>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Decide" />
    <bpmn:userTask id="Decide" name="Decide leave" camunda:candidateGroups="managers">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="approved" label="Approved" type="boolean"><camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>
        <camunda:formField id="kind" label="Kind" type="enum"><camunda:value id="paid" name="Paid" /><camunda:value id="unpaid" name="Unpaid" /></camunda:formField>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Decide" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
);

Feature('People complete user tasks through forms', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), PROCESS);
  });
  after(() => t.close());

  const start = async (): Promise<{ id: string; taskId: string }> => {
    const id = (await t.as(DEMO).post('/api/processes/leave/instances').send({ variables: { days: 3 }, businessKey: 'L-1' }).expect(201)).body.id;
    const tasks = await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200);
    return { id, taskId: tasks.body.items[0].id };
  };

  Scenario('start values are checked against the start form', () => {
    Then('each bad field is named and no instance is created', async () => {
      const before = (await t.as(DEMO).get('/api/instances?processKey=leave').expect(200)).body.total;
      const res = await t.as(DEMO)
        .post('/api/processes/leave/instances')
        .send({ variables: { days: 40, reason: 'a very long reason that is too long', extra: 1 } })
        .expect(400);
      assert.equal(res.type, 'application/problem+json');
      const paths = res.body.problems.map((p: { path: string }) => p.path).sort();
      assert.deepEqual(paths, ['days', 'extra', 'reason']);
      const missing = await t.as(DEMO).post('/api/processes/leave/instances').send({ variables: {} }).expect(400);
      assert.deepEqual(missing.body.problems, [{ path: 'days', message: 'Days is required' }]);
      await t.as(DEMO).post('/api/processes/leave/instances').send({ variables: { days: '3' } }).expect(400);
      await t.as(DEMO).post('/api/processes/nope/instances').send({}).expect(404);
      await t.as(DEMO).post('/api/processes/leave/instances').send({ variables: { days: 2 }, businessKey: 7 }).expect(400);
      assert.equal((await t.as(DEMO).get('/api/instances?processKey=leave').expect(200)).body.total, before);
    });
  });

  Scenario('a task for a group is claimed and completed by a member', () => {
    let taskId: string;
    let id: string;
    Given('a task for the managers group', async () => {
      ({ id, taskId } = await start());
      const mine = await t.as(MARY).get('/api/tasks').expect(200);
      assert.ok(mine.body.items.some((task: { id: string }) => task.id === taskId));
    });
    When('mary claims it', async () => {
      const res = await t.as(MARY).post(`/api/tasks/${taskId}/claim`).expect(200);
      assert.equal(res.body.assignee, 'mary');
      const assigned = await t.as(MARY).get('/api/tasks?assignee=mary').expect(200);
      assert.deepEqual(assigned.body.items.map((task: { id: string }) => task.id), [taskId]);
    });
    Then('bad form values are refused, naming each field', async () => {
      const res = await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: 'yes', kind: 'holiday' } }).expect(400);
      assert.deepEqual(res.body.problems.map((p: { path: string }) => p.path).sort(), ['approved', 'kind']);
      const extra = await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: true, days: 99 } }).expect(400);
      assert.deepEqual(extra.body.problems, [{ path: 'days', message: 'is not a field of this form' }]);
    });
    When('she completes it', async () => {
      await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: true, kind: 'paid' } }).expect(204);
    });
    Then('the instance completes with her values and the task is gone', async () => {
      const shown = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(shown.status, 'completed');
      assert.deepEqual(shown.variables, { days: 3, approved: true, kind: 'paid' });
      const again = await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: true } }).expect(409);
      assert.equal(again.type, 'application/problem+json');
    });
  });

  Scenario('completing the same task twice at the same moment', () => {
    Then('exactly one request succeeds and the other gets 409', async () => {
      const { id, taskId } = await start();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: false } })),
      );
      assert.deepEqual(results.map((res) => res.status).sort(), [204, 409, 409, 409, 409]);
      const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body;
      assert.equal(history.filter((event: { type: string }) => event.type === 'task.completed').length, 1);
      assert.equal(history.filter((event: { type: string; elementId?: string }) => event.type === 'element.completed' && event.elementId === 'Done').length, 1);
    });
  });

  Scenario('a claimed task belongs to its assignee', () => {
    Then('another member cannot claim or complete it, and an outsider gets 403', async () => {
      const { taskId } = await start();
      await t.as(DEMO).post(`/api/tasks/${taskId}/claim`).expect(403);
      await t.as(MARY).post(`/api/tasks/${taskId}/claim`).expect(200);
      await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: true } }).expect(403);
      await t.as(MARY).post(`/api/tasks/${taskId}/unclaim`).expect(200);
      await t.as(MARY).get('/api/tasks?candidateGroup=admins').expect(403);
    });
  });

  Scenario('instances are listed with filters and paging', () => {
    Then('status, process and business key filter; limit and offset page', async () => {
      const all = (await t.as(DEMO).get('/api/instances?processKey=leave&limit=2').expect(200)).body;
      assert.equal(all.items.length, 2);
      assert.equal(all.total, 3);
      const next = (await t.as(DEMO).get('/api/instances?processKey=leave&limit=2&offset=2').expect(200)).body;
      assert.notEqual(next.items[0].id, all.items[0].id);
      const completed = (await t.as(DEMO).get('/api/instances?status=completed&businessKey=L-1').expect(200)).body;
      assert.ok(completed.items.every((item: { status: string; businessKey: string }) => item.status === 'completed' && item.businessKey === 'L-1'));
      await t.as(DEMO).get('/api/instances?status=sleeping').expect(400);
      await t.as(DEMO).get('/api/instances?limit=100000').expect(400);
    });
  });

  Scenario('an operator cancels a running instance', () => {
    Then('it is cancelled, its task disappears and a second cancel is a conflict', async () => {
      const { id, taskId } = await start();
      await t.as(MARY).post(`/api/instances/${id}/cancel`).expect(403);
      const res = await t.as(DEMO).post(`/api/instances/${id}/cancel`).expect(200);
      assert.equal(res.body.status, 'cancelled');
      await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { approved: true } }).expect(409);
      await t.as(DEMO).post(`/api/instances/${id}/cancel`).expect(409);
      const tasks = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body;
      assert.equal(tasks.total, 0);
    });
  });
});
