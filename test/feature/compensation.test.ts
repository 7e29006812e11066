import assert from 'node:assert/strict';
import { bpmn, startBaton, type TestBaton } from '../helpers/baton.ts';
import { instanceSteps } from '../helpers/instance-steps.ts';

/**
 * Compensation of a completed sub-process by its compensation event sub-process (BPMN 2.0,
 * 10.5.6), through the REST API: compensation thrown after the sub-process completed runs the
 * event sub-process inside it, and the compensation that one throws runs the handlers of the
 * sub-process's completed activities. Each step waits at a user task, so every step runs on a
 * fresh engine from the saved state.
 */

/** A booking sub-process whose booking a refund compensates; `after` is what follows the sub-process. */
const booking = (key: string, after: string) =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Trip" />
    <bpmn:subProcess id="Trip">
      <bpmn:startEvent id="TripStart" />
      <bpmn:sequenceFlow id="t1" sourceRef="TripStart" targetRef="Book" />
      <bpmn:task id="Book" />
      <bpmn:boundaryEvent id="OnUndo" attachedToRef="Book"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
      <bpmn:userTask id="Refund" isForCompensation="true" camunda:assignee="demo" />
      <bpmn:association id="a1" associationDirection="One" sourceRef="OnUndo" targetRef="Refund" />
      <bpmn:sequenceFlow id="t2" sourceRef="Book" targetRef="TripEnd" />
      <bpmn:endEvent id="TripEnd" />
      <bpmn:subProcess id="Undo" triggeredByEvent="true">
        <bpmn:startEvent id="UndoStart"><bpmn:compensateEventDefinition /></bpmn:startEvent>
        <bpmn:sequenceFlow id="u1" sourceRef="UndoStart" targetRef="Apologise" />
        <bpmn:userTask id="Apologise" camunda:assignee="demo" />
        <bpmn:sequenceFlow id="u2" sourceRef="Apologise" targetRef="UndoAll" />
        <bpmn:intermediateThrowEvent id="UndoAll"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>
        <bpmn:sequenceFlow id="u3" sourceRef="UndoAll" targetRef="UndoEnd" />
        <bpmn:endEvent id="UndoEnd" />
      </bpmn:subProcess>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="Trip" targetRef="${after.startsWith('<bpmn:userTask') ? 'Review' : 'Cancel'}" />
    ${after}`,
  );

/** a review decides whether the trip is cancelled */
const REVIEWED = booking(
  'reviewedTrip',
  `<bpmn:userTask id="Review" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f3" sourceRef="Review" targetRef="Cancelled" />
    <bpmn:exclusiveGateway id="Cancelled" default="f5" />
    <bpmn:sequenceFlow id="f4" sourceRef="Cancelled" targetRef="Cancel"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${cancel}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="Cancelled" targetRef="Kept" />
    <bpmn:endEvent id="Kept" />
    <bpmn:intermediateThrowEvent id="Cancel"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="Cancel" targetRef="Undone" />
    <bpmn:endEvent id="Undone" />`,
);

/** the trip is cancelled as soon as it is booked: compensation thrown on the sub-process's way out */
const CANCELLED_AT_ONCE = booking(
  'cancelledTrip',
  `<bpmn:intermediateThrowEvent id="Cancel"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f6" sourceRef="Cancel" targetRef="Undone" />
    <bpmn:endEvent id="Undone" />`,
);

// each scenario twice: every event recovering the instance from the store, and on the engine kept in memory
for (const liveEngines of ['0', '64']) {
  Feature(`A completed sub-process is compensated by its compensation event sub-process (${liveEngines === '0' ? 'recovered from the store' : 'engines kept in memory'})`, () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton({ env: { BATON_LIVE_ENGINES: liveEngines } });
    });
    after(() => t.close());

    const { deploy, start, open, complete, status, completions } = instanceSteps(() => t);

    Scenario('compensation thrown after a review runs the event sub-process, whose throw runs the refund', () => {
      let id: string;
      Given('a trip booked in a sub-process, waiting for its review', async () => {
        await deploy(REVIEWED, 'reviewedTrip');
        id = await start('reviewedTrip');
        assert.deepEqual(await open(id), ['Review']);
      });
      When('the review cancels the trip', () => complete(id, 'Review', { cancel: true }));
      Then('the compensation event sub-process of the completed sub-process runs: an apology is due', async () => {
        assert.deepEqual(await open(id), ['Apologise']);
        assert.equal(await status(id), 'running');
      });
      When('the apology is made', () => complete(id, 'Apologise'));
      Then('the compensation it throws runs the refund of the booking', async () => {
        assert.deepEqual(await open(id), ['Refund']);
      });
      When('the refund is done', () => complete(id, 'Refund'));
      Then('the instance completes, each handler run once', async () => {
        assert.equal(await status(id), 'completed');
        assert.equal(await completions(id, 'Refund'), 1);
        assert.equal(await completions(id, 'Apologise'), 1);
        assert.equal(await completions(id, 'Undone'), 1);
      });
      And('a trip that is kept is never compensated', async () => {
        const kept = await start('reviewedTrip');
        await complete(kept, 'Review', { cancel: false });
        assert.equal(await status(kept), 'completed');
        assert.equal(await completions(kept, 'Apologise'), 0);
        assert.equal(await completions(kept, 'Refund'), 0);
      });
    });

    Scenario('compensation thrown right after the sub-process, before it has left', () => {
      let id: string;
      Given('a trip cancelled as soon as it is booked', async () => {
        await deploy(CANCELLED_AT_ONCE, 'cancelledTrip');
        id = await start('cancelledTrip');
      });
      Then('the compensation event sub-process runs', async () => {
        assert.deepEqual(await open(id), ['Apologise']);
      });
      When('the apology and the refund are done', async () => {
        await complete(id, 'Apologise');
        assert.deepEqual(await open(id), ['Refund']);
        await complete(id, 'Refund');
      });
      Then('the instance completes', async () => {
        assert.equal(await status(id), 'completed');
        assert.equal(await completions(id, 'Refund'), 1);
      });
    });
  });
}
