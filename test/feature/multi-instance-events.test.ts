import assert from 'node:assert/strict';
import type { HistoryEvent } from '../helpers/api-types.ts';
import { DEMO, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

/**
 * A multi-instance activity throws the event of its `behavior` (BPMN 2.0, 10.2.8): "None" each time
 * an inner instance completes, "One" when the first one does; a boundary event on the activity
 * catches it while the activity goes on with its other instances. Every task completion runs on a
 * fresh engine recovered from the store.
 */

const SIGNAL = `<bpmn:signal id="Progress" name="progress" />
  <bpmn:signalEventDefinition id="InstanceDone" signalRef="Progress" />`;

/** three reviews, sequential or parallel, and a boundary path that notes each event the reviews throw */
const reviews = (key: string, loop: string): string =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
    <bpmn:userTask id="Review" name="Review" camunda:assignee="demo">
      <bpmn:multiInstanceLoopCharacteristics ${loop}>
        <bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="Done" />
    <bpmn:endEvent id="Done" />
    <bpmn:boundaryEvent id="OnProgress" attachedToRef="Review">
      <bpmn:signalEventDefinition signalRef="Progress" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="OnProgress" targetRef="Noted" />
    <bpmn:endEvent id="Noted" />`,
    SIGNAL,
  );

// each scenario twice: every event recovering the instance from the store, and on the engine kept in memory
for (const liveEngines of ['0', '64']) {
  Feature(`Multi-instance activities throw the event of their behavior (${liveEngines === '0' ? 'recovered from the store' : 'engines kept in memory'})`, () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton({ env: { BATON_LIVE_ENGINES: liveEngines } });
      await deploy(t.as(DEMO), reviews('eachReview', 'isSequential="true" behavior="None" noneBehaviorEventRef="InstanceDone"'), 'each.bpmn');
      await deploy(t.as(DEMO), reviews('firstReview', 'isSequential="false" behavior="One" oneBehaviorEventRef="InstanceDone"'), 'first.bpmn');
    });
    after(() => t.close());

    const start = async (key: string): Promise<string> => (await t.as(DEMO).post(`/api/processes/${key}/instances`).send({}).expect(201)).body.id;
    const openReviews = async (id: string): Promise<string[]> =>
      ((await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items as { id: string }[]).map((task) => task.id);
    const completeReview = async (taskId: string): Promise<void> => {
      await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: {} }).expect(204);
    };
    /** how often the boundary path ran to its end */
    const noted = async (id: string): Promise<number> => {
      const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body as HistoryEvent[] | { items: HistoryEvent[] };
      const events = Array.isArray(history) ? history : history.items;
      return events.filter((event) => event.type === 'element.completed' && event.elementId === 'Noted').length;
    };
    const status = async (id: string): Promise<string> => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body.status;

    Scenario('behavior="None": the event is thrown each time a review completes', () => {
      let id: string;
      Given('three sequential reviews whose boundary event catches the event', async () => {
        id = await start('eachReview');
        assert.equal((await openReviews(id)).length, 1);
        assert.equal(await noted(id), 0);
      });
      When('the first review is completed', async () => completeReview((await openReviews(id))[0] as string));
      Then('the boundary path ran once and the next review waits: the catch did not cancel the reviews', async () => {
        assert.equal(await noted(id), 1);
        assert.equal((await openReviews(id)).length, 1);
        assert.equal(await status(id), 'running');
      });
      When('the other two reviews are completed', async () => {
        await completeReview((await openReviews(id))[0] as string);
        assert.equal(await noted(id), 2);
        await completeReview((await openReviews(id))[0] as string);
      });
      Then('the boundary path ran three times and the instance completed after the reviews', async () => {
        assert.equal(await noted(id), 3);
        assert.equal(await status(id), 'completed');
      });
    });

    Scenario('behavior="One": the event is thrown when the first review completes', () => {
      let id: string;
      Given('three parallel reviews', async () => {
        id = await start('firstReview');
        assert.equal((await openReviews(id)).length, 3);
      });
      When('one review is completed', async () => completeReview((await openReviews(id))[1] as string));
      Then('the boundary path ran once and the two other reviews still wait', async () => {
        assert.equal(await noted(id), 1);
        assert.equal((await openReviews(id)).length, 2);
      });
      When('the two other reviews are completed', async () => {
        for (const task of await openReviews(id)) await completeReview(task);
      });
      Then('no other event was thrown and the instance completed', async () => {
        assert.equal(await noted(id), 1);
        assert.equal(await status(id), 'completed');
      });
    });

    Scenario('behaviors Baton does not run are explained', () => {
      Then('a complexBehaviorDefinition or an event other than a signal leaves the process for viewing only', async () => {
        const complex = reviews('complexReview', 'behavior="Complex"').replace(
          '</bpmn:multiInstanceLoopCharacteristics>',
          '<bpmn:complexBehaviorDefinition id="Rule"><bpmn:condition xsi:type="bpmn:tFormalExpression">${true}</bpmn:condition></bpmn:complexBehaviorDefinition></bpmn:multiInstanceLoopCharacteristics>',
        );
        const escalation = reviews('escalatingReview', 'behavior="None" noneBehaviorEventRef="Raise"').replace(SIGNAL, `${SIGNAL}<bpmn:escalation id="Late" /><bpmn:escalationEventDefinition id="Raise" escalationRef="Late" />`);
        for (const [key, xml, reason] of [
          ['complexReview', complex, /<Review>: multi-instance behavior="Complex" \(complexBehaviorDefinition\) is not supported/],
          ['escalatingReview', escalation, /<Review>: multi-instance behavior="None" throws the EscalationEventDefinition <Raise>; Baton throws signal event definitions only/],
        ] as const) {
          await deploy(t.as(DEMO), xml, `${key}.bpmn`);
          const res = await t.as(DEMO).post(`/api/processes/${key}/instances`).send({}).expect(400);
          assert.equal(res.type, 'application/problem+json');
          assert.match(res.body.problems.map((problem: { message: string }) => problem.message).join("; "), reason);
        }
      });
    });
  });
}
