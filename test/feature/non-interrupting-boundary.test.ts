import assert from 'node:assert/strict';
import type { HistoryEvent } from '../helpers/api-types.ts';
import { DEMO, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

/**
 * A non-interrupting boundary event (cancelActivity="false") stays armed while its activity runs:
 * it catches each message or signal that arrives meanwhile, and each catch once (BPMN 2.0, 10.5.3).
 */

/** a review that takes reminders as they come */
const REMINDERS = bpmn(
  'reminders',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
    <bpmn:userTask id="Review" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="Done" />
    <bpmn:endEvent id="Done" />
    <bpmn:boundaryEvent id="OnReminder" attachedToRef="Review" cancelActivity="false">
      <bpmn:messageEventDefinition messageRef="Reminder" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="OnReminder" targetRef="Noted" />
    <bpmn:endEvent id="Noted" />`,
  '<bpmn:message id="Reminder" name="reminder" />',
);

/** a review on one branch, a signal thrown on the other */
const PARALLEL_SIGNAL = bpmn(
  'parallelSignal',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Split" />
    <bpmn:parallelGateway id="Split" />
    <bpmn:sequenceFlow id="f2" sourceRef="Split" targetRef="Review" />
    <bpmn:sequenceFlow id="f3" sourceRef="Split" targetRef="Announce" />
    <bpmn:userTask id="Review" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f4" sourceRef="Review" targetRef="Done" />
    <bpmn:endEvent id="Done" />
    <bpmn:intermediateThrowEvent id="Announce"><bpmn:signalEventDefinition signalRef="News" /></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="Announce" targetRef="Announced" />
    <bpmn:endEvent id="Announced" />
    <bpmn:boundaryEvent id="OnNews" attachedToRef="Review" cancelActivity="false">
      <bpmn:signalEventDefinition signalRef="News" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="OnNews" targetRef="Noted" />
    <bpmn:endEvent id="Noted" />`,
  '<bpmn:signal id="News" name="news" />',
);

// each scenario twice: every event recovering the instance from the store, and on the engine kept in memory
for (const liveEngines of ['0', '64']) {
  Feature(`Non-interrupting boundary events stay armed while their activity runs (${liveEngines === '0' ? 'recovered from the store' : 'engines kept in memory'})`, () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton({ env: { BATON_LIVE_ENGINES: liveEngines } });
      await deploy(t.as(DEMO), REMINDERS, 'reminders.bpmn');
      await deploy(t.as(DEMO), PARALLEL_SIGNAL, 'parallel-signal.bpmn');
    });
    after(() => t.close());

    const start = async (key: string): Promise<string> => (await t.as(DEMO).post(`/api/processes/${key}/instances`).send({}).expect(201)).body.id;
    /** how often the boundary path ran to its end */
    const noted = async (id: string): Promise<number> => {
      const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body as HistoryEvent[] | { items: HistoryEvent[] };
      const events = Array.isArray(history) ? history : history.items;
      return events.filter((event) => event.type === 'element.completed' && event.elementId === 'Noted').length;
    };
    const reviews = async (id: string): Promise<{ id: string }[]> => (await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items;

    Scenario('a message boundary event catches every message while the task waits', () => {
      let id: string;
      Given('a review waiting for its reviewer', async () => {
        id = await start('reminders');
      });
      When('two reminders arrive, each handled on a fresh engine', async () => {
        await t.as(WORKER).post('/api/messages').send({ name: 'reminder', instanceId: id }).expect(200);
        await t.as(WORKER).post('/api/messages').send({ name: 'reminder', instanceId: id }).expect(200);
      });
      Then('the boundary path ran twice and the review still waits', async () => {
        assert.equal(await noted(id), 2);
        assert.equal((await reviews(id)).length, 1);
      });
      When('the review is completed', async () => {
        await t.as(DEMO).post(`/api/tasks/${(await reviews(id))[0]?.id}/complete`).send({ variables: {} }).expect(204);
      });
      Then('the instance completes and waits for no more reminders', async () => {
        const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
        assert.equal(view.status, 'completed');
        await t.as(WORKER).post('/api/messages').send({ name: 'reminder', instanceId: id }).expect(404);
      });
    });

    Scenario('a signal thrown on a parallel branch is caught once', () => {
      Then('the boundary path ran once and the review still waits', async () => {
        const id = await start('parallelSignal');
        assert.equal(await noted(id), 1);
        assert.equal((await reviews(id)).length, 1);
      });
    });
  });
}
