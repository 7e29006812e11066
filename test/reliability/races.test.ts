/**
 * Requests that race for the same work: exactly one wins, the others get 409, and the instance
 * stays consistent. Each race is run many times.
 */
import assert from 'node:assert/strict';
import { hashSecret } from '../../server/auth/secrets.ts';
import type { StoredUser } from '../../server/auth/users.ts';
import { DEMO, MARY, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const RUNS = Number(process.env.RACE_RUNS ?? 50);
const ANN = { user: 'ann', password: 'ann-password' };

const APPROVAL = bpmn(
  'approval',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" camunda:candidateGroups="managers" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="Approved" />
    <bpmn:endEvent id="Approved" />`,
);

const JOB = bpmn(
  'job',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Work" />
    <bpmn:serviceTask id="Work" camunda:type="external" camunda:topic="race.job" />
    <bpmn:sequenceFlow id="f2" sourceRef="Work" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
);

/** An approval that a message withdraws while it waits. */
const WITHDRAWABLE = bpmn(
  'withdrawable',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" camunda:candidateGroups="managers" />
    <bpmn:boundaryEvent id="Withdraw" attachedToRef="Approve"><bpmn:messageEventDefinition messageRef="WithdrawMessage" /></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="Approved" />
    <bpmn:endEvent id="Approved" />
    <bpmn:sequenceFlow id="f3" sourceRef="Withdraw" targetRef="Withdrawn" />
    <bpmn:endEvent id="Withdrawn" />`,
  '<bpmn:message id="WithdrawMessage" name="race.withdraw" />',
);

interface Event {
  seq: number;
  type: string;
  elementId?: string;
}

Feature(`Racing requests: one wins, the others get 409 (each race ${RUNS} times)`, () => {
  let t: TestBaton;
  before(async () => {
    const ann: StoredUser = { name: 'ann', passwordHash: await hashSecret(ANN.password), tokenHashes: [], groups: ['managers'], roles: ['user'] };
    t = await startBaton({ users: [ann] });
    for (const [xml, name] of [[APPROVAL, 'approval'], [JOB, 'job'], [WITHDRAWABLE, 'withdrawable']]) await deploy(t.as(DEMO), xml as string, `${name}.bpmn`);
  });
  after(() => t.close());

  const history = async (id: string): Promise<Event[]> => (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body;
  /** the history is numbered 1..n without gaps, and the instance completed at exactly one end event */
  const consistent = async (id: string, ends: string[]): Promise<Event[]> => {
    const events = await history(id);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'history numbered without gaps');
    const instance = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
    assert.equal(instance.status, 'completed');
    const reached = events.filter((e) => e.type === 'element.completed' && ends.includes(e.elementId ?? ''));
    assert.equal(reached.length, 1, `one end event, got ${reached.map((e) => e.elementId).join(', ')}`);
    assert.equal(events.filter((e) => e.type === 'instance.completed').length, 1);
    return events;
  };

  Scenario('two managers complete the same task at the same moment', () => {
    Then(`in each of ${RUNS} runs one gets 204, the other 409, and the task is completed once`, async function (this: Mocha.Context) {
      this.timeout(180_000);
      for (let run = 0; run < RUNS; run++) {
        const id = (await t.as(DEMO).post('/api/processes/approval/instances').send({}).expect(201)).body.id;
        const taskId = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items[0].id;
        const answers = await Promise.all([MARY, ANN].map((who) => t.as(who).post(`/api/tasks/${taskId}/complete`).send({ variables: {} })));
        assert.deepEqual(answers.map((res) => res.status).sort(), [204, 409], `run ${run + 1}: ${answers.map((res) => res.text).join(' / ')}`);
        const loser = answers.find((res) => res.status === 409);
        assert.equal(loser?.type, 'application/problem+json');
        const events = await consistent(id, ['Approved']);
        assert.equal(events.filter((e) => e.type === 'task.completed').length, 1);
      }
    });
  });

  Scenario('two workers race for the same external task', () => {
    Then(`in each of ${RUNS} runs one locks it; the holder (twice) and the other complete at once: one 204, the others 409`, async function (this: Mocha.Context) {
      this.timeout(180_000);
      for (let run = 0; run < RUNS; run++) {
        const id = (await t.as(DEMO).post('/api/processes/job/instances').send({}).expect(201)).body.id;
        const fetches = await Promise.all(['w1', 'w2'].map((workerId) =>
          t.as(WORKER).post('/api/external-tasks/fetch-and-lock').send({ workerId, maxTasks: 1, topics: [{ topicName: 'race.job', lockDuration: 60_000 }] }).expect(200)));
        const got = fetches.map((res) => res.body as { id: string; instanceId: string }[]);
        assert.equal(got.flat().length, 1, `run ${run + 1}: exactly one worker locked it`);
        const task = got.flat()[0] as { id: string; instanceId: string };
        assert.equal(task.instanceId, id);
        // the holder completes it twice at once (a retried request) while the other tries too
        const answers = await Promise.all(['w1', 'w2', got[0]?.length ? 'w1' : 'w2'].map((workerId) =>
          t.as(WORKER).post(`/api/external-tasks/${task.id}/complete`).send({ workerId })));
        assert.deepEqual(answers.map((res) => res.status).sort(), [204, 409, 409], `run ${run + 1}: ${answers.map((res) => res.text).join(' / ')}`);
        const events = await consistent(id, ['Done']);
        assert.equal(events.filter((e) => e.type === 'job.completed').length, 1);
        assert.equal(events.filter((e) => e.type === 'job.locked').length, 1);
      }
    });
  });

  Scenario('a message arrives while the task it would interrupt is being completed', () => {
    Then(`in each of ${RUNS} runs exactly one of them takes effect; the other gets 409 (or 404 when it came after)`, async function (this: Mocha.Context) {
      this.timeout(180_000);
      const wins = { task: 0, message: 0 };
      for (let run = 0; run < RUNS; run++) {
        const id = (await t.as(DEMO).post('/api/processes/withdrawable/instances').send({}).expect(201)).body.id;
        const taskId = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items[0].id;
        // the one sent first alternates, and the other follows after 0 to 4 ms
        const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const lag = run % 5;
        const [complete, message] = await Promise.all([
          (run % 2 ? delay(lag) : Promise.resolve()).then(() => t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: {} })),
          (run % 2 ? Promise.resolve() : delay(lag)).then(() => t.as(DEMO).post('/api/messages').send({ name: 'race.withdraw', instanceId: id })),
        ]);
        const events = await consistent(id, ['Approved', 'Withdrawn']);
        const completed = events.filter((e) => e.type === 'task.completed').length;
        const received = events.filter((e) => e.type === 'message.received').length;
        assert.equal(completed + received, 1, `run ${run + 1}: one of them took effect`);
        if (completed) {
          wins.task++;
          assert.equal(complete.status, 204);
          assert.ok([404, 409].includes(message.status), `run ${run + 1}: message ${message.status} ${message.text}`);
          assert.ok(events.some((e) => e.elementId === 'Approved' && e.type === 'element.completed'));
        } else {
          wins.message++;
          assert.equal(message.status, 200, message.text);
          assert.equal(complete.status, 409, complete.text);
          assert.ok(events.some((e) => e.elementId === 'Withdrawn' && e.type === 'element.completed'));
        }
      }
      process.stdout.write(`      (the task won ${wins.task} times, the message ${wins.message} times)\n`);
      assert.ok(wins.task > 0 && wins.message > 0, 'both sides won some runs: it was a race');
    });
  });
});
