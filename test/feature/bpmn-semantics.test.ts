import assert from 'node:assert/strict';
import { DEMO, bpmn, startBaton, type Agent, type TestBaton } from '../helpers/baton.ts';

/**
 * BPMN semantics Baton fixes over bpmn-elements, through the REST API: errors nobody catches end
 * the instance with the error, standard loops repeat while their condition holds, timer-cycle
 * event sub-processes run on every cycle, JUEL and FEEL
 * conditions, script tasks only in languages an operator enabled, and expressions that cannot
 * reach the host.
 */

type Instance = { id: string; status: string; error: string | null; variables: Record<string, unknown> };

const start = async (agent: Agent, key: string, variables: Record<string, unknown> = {}): Promise<Instance> =>
  (await agent.post(`/api/processes/${key}/instances`).send({ variables }).expect(201)).body;

/** Deploys a file; returns the reasons Baton will not execute its process (none when it will). */
async function deployReasons(agent: Agent, xml: string, key: string): Promise<string[]> {
  const res = await agent.post('/api/deployments').attach('file', Buffer.from(xml), `${key}.bpmn`);
  if (res.status === 400) return (res.body.problems as { message: string }[]).map((p) => p.message);
  assert.equal(res.status, 201, res.text);
  const { versions } = (await agent.get(`/api/processes/${key}`).expect(200)).body as { versions: { version: number; executable?: boolean; notExecuted?: { message: string }[] }[] };
  const newest = [...versions].sort((a, b) => b.version - a.version)[0];
  if (newest?.executable === false) return (newest.notExecuted ?? []).map((p) => p.message);
  return [];
}

const ERROR_END = bpmn(
  'errorEnd',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Sub" />
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="SubStart" />
      <bpmn:sequenceFlow id="s1" sourceRef="SubStart" targetRef="Fail" />
      <bpmn:endEvent id="Fail"><bpmn:errorEventDefinition errorRef="Broken" /></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="Sub" targetRef="After" />
    <bpmn:endEvent id="After" />`,
  '<bpmn:error id="Broken" errorCode="BROKEN" />',
);

const ERROR_CAUGHT = bpmn(
  'errorCaught',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Sub" />
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="SubStart" />
      <bpmn:sequenceFlow id="s1" sourceRef="SubStart" targetRef="Fail" />
      <bpmn:endEvent id="Fail"><bpmn:errorEventDefinition errorRef="Broken" /></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="Caught" attachedToRef="Sub"><bpmn:errorEventDefinition errorRef="Broken" /></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Sub" targetRef="Normal" />
    <bpmn:endEvent id="Normal" />
    <bpmn:sequenceFlow id="f3" sourceRef="Caught" targetRef="Handled" />
    <bpmn:endEvent id="Handled" />`,
  '<bpmn:error id="Broken" errorCode="BROKEN" />',
);

/** counts up in a JUEL script task until the loop condition no longer holds */
const LOOP = bpmn(
  'countLoop',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Count" />
    <bpmn:scriptTask id="Count" scriptFormat="juel" camunda:resultVariable="counter">
      <bpmn:standardLoopCharacteristics testBefore="true"><bpmn:loopCondition xsi:type="bpmn:tFormalExpression">\${counter &lt; limit}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>
      <bpmn:script>\${counter + 1}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Count" targetRef="End" />
    <bpmn:endEvent id="End" />`,
);

const conditions = (key: string, big: string, vip: string) =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Route" />
    <bpmn:exclusiveGateway id="Route" default="toSmall" />
    <bpmn:sequenceFlow id="toBig" sourceRef="Route" targetRef="Big"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${big}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toVip" sourceRef="Route" targetRef="Vip"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${vip}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toSmall" sourceRef="Route" targetRef="Small" />
    <bpmn:endEvent id="Big" /><bpmn:endEvent id="Vip" /><bpmn:endEvent id="Small" />`,
  );

/** a user task with a one-hour deadline as an interrupting timer event sub-process */
const DEADLINE = bpmn(
  'deadlineSub',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
    <bpmn:userTask id="Review" />
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="Reviewed" />
    <bpmn:endEvent id="Reviewed" />
    <bpmn:subProcess id="Deadline" triggeredByEvent="true">
      <bpmn:startEvent id="HourPassed">
        <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
      </bpmn:startEvent>
      <bpmn:sequenceFlow id="d1" sourceRef="HourPassed" targetRef="TooLate" />
      <bpmn:endEvent id="TooLate" />
    </bpmn:subProcess>`,
);

/** a user task reminded every hour, without end, by a non-interrupting timer-cycle event sub-process */
const REMINDERS = bpmn(
  'hourlyReminder',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
    <bpmn:userTask id="Review" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="Reviewed" />
    <bpmn:endEvent id="Reviewed" />
    <bpmn:subProcess id="Reminder" triggeredByEvent="true">
      <bpmn:startEvent id="HourPassed" isInterrupting="false">
        <bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
      </bpmn:startEvent>
      <bpmn:sequenceFlow id="d1" sourceRef="HourPassed" targetRef="Reminded" />
      <bpmn:endEvent id="Reminded" />
    </bpmn:subProcess>`,
);

const SIGNALS = [
  bpmn(
    'waitForGo',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Go" />
    <bpmn:intermediateCatchEvent id="Go"><bpmn:signalEventDefinition signalRef="GoSignal" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Go" targetRef="Went" />
    <bpmn:endEvent id="Went" />`,
    '<bpmn:signal id="GoSignal" name="go" />',
  ),
  bpmn(
    'sayGo',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Said" />
    <bpmn:endEvent id="Said"><bpmn:signalEventDefinition signalRef="GoSignal" /></bpmn:endEvent>`,
    '<bpmn:signal id="GoSignal" name="go" />',
  ),
];

/** one branch throws a signal before the other, listed after it, waits for it */
const SIGNAL_BRANCHES = (key: string, after: string) =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Fork" />
    <bpmn:parallelGateway id="Fork" />
    <bpmn:sequenceFlow id="toThrow" sourceRef="Fork" targetRef="Throw" />
    <bpmn:sequenceFlow id="toCatch" sourceRef="Fork" targetRef="Catch" />
    <bpmn:intermediateThrowEvent id="Throw"><bpmn:signalEventDefinition signalRef="Ready" /></bpmn:intermediateThrowEvent>
    ${after}
    <bpmn:endEvent id="Thrown" />
    <bpmn:intermediateCatchEvent id="Catch"><bpmn:signalEventDefinition signalRef="Ready" /><bpmn:signalEventDefinition signalRef="Never" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="Catch" targetRef="Caught" />
    <bpmn:endEvent id="Caught" />`,
    '<bpmn:signal id="Ready" name="ready" /><bpmn:signal id="Never" name="never" />',
  );

const COMPLEX_SPLIT = bpmn(
  'complexSplit',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Split" />
    <bpmn:complexGateway id="Split" default="toC" />
    <bpmn:sequenceFlow id="toA" sourceRef="Split" targetRef="A"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${a}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toB" sourceRef="Split" targetRef="B"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${b}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toC" sourceRef="Split" targetRef="C" />
    <bpmn:endEvent id="A" />
    <bpmn:endEvent id="B" />
    <bpmn:endEvent id="C" />`,
);

/** an exclusive split and merge in one branch of a parallel split (bpmn-engine issue #200) */
const SPLIT_IN_BRANCH = bpmn(
  'splitInBranch',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Fork" />
    <bpmn:parallelGateway id="Fork" />
    <bpmn:sequenceFlow id="fa" sourceRef="Fork" targetRef="Split" />
    <bpmn:sequenceFlow id="fb" sourceRef="Fork" targetRef="Join" />
    <bpmn:exclusiveGateway id="Split" default="toB" />
    <bpmn:sequenceFlow id="toA" sourceRef="Split" targetRef="A"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${manual}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toB" sourceRef="Split" targetRef="B" />
    <bpmn:userTask id="A" camunda:assignee="demo" />
    <bpmn:task id="B" />
    <bpmn:sequenceFlow id="fA" sourceRef="A" targetRef="Merge" />
    <bpmn:sequenceFlow id="fB" sourceRef="B" targetRef="Merge" />
    <bpmn:exclusiveGateway id="Merge" />
    <bpmn:sequenceFlow id="fm" sourceRef="Merge" targetRef="Join" />
    <bpmn:parallelGateway id="Join" />
    <bpmn:sequenceFlow id="fj" sourceRef="Join" targetRef="End" />
    <bpmn:endEvent id="End" />`,
);

const QUANTITIES = bpmn(
  'quantities',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Send" />
    <bpmn:task id="Send" completionQuantity="2" />
    <bpmn:sequenceFlow id="f2" sourceRef="Send" targetRef="Check" />
    <bpmn:userTask id="Check" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f3" sourceRef="Check" targetRef="Receive" />
    <bpmn:task id="Receive" startQuantity="2" />
    <bpmn:sequenceFlow id="f4" sourceRef="Receive" targetRef="End" />
    <bpmn:endEvent id="End" />`,
);

const CALL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.com">
  <bpmn:error id="Rejected" errorCode="rejected" />
  <bpmn:process id="caller" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:callActivity id="Call" calledElement="review" />
    <bpmn:boundaryEvent id="OnRejected" attachedToRef="Call"><bpmn:errorEventDefinition errorRef="Rejected" /></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="Done" />
    <bpmn:sequenceFlow id="f3" sourceRef="OnRejected" targetRef="Refused" />
    <bpmn:endEvent id="Done" />
    <bpmn:endEvent id="Refused" />
  </bpmn:process>
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="ReviewStart" />
    <bpmn:sequenceFlow id="r1" sourceRef="ReviewStart" targetRef="Review" />
    <bpmn:userTask id="Review" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="r2" sourceRef="Review" targetRef="Ok" />
    <bpmn:exclusiveGateway id="Ok" default="r3" />
    <bpmn:sequenceFlow id="r3" sourceRef="Ok" targetRef="Reviewed" />
    <bpmn:sequenceFlow id="r4" sourceRef="Ok" targetRef="Reject"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\${rejected}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="Reviewed" />
    <bpmn:endEvent id="Reject"><bpmn:errorEventDefinition errorRef="Rejected" /></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`;

const ended = async (agent: Agent, id: string): Promise<string[]> => {
  const view = (await agent.get(`/api/instances/${id}`).expect(200)).body as { elements: { id: string; type: string; status: string }[] };
  return view.elements.filter((e) => e.type === 'bpmn:EndEvent' && e.status === 'completed').map((e) => e.id);
};

Feature('BPMN semantics as the specification says', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton({ env: { BATON_SCRIPT_FORMATS: 'juel,feel' } });
  });
  after(() => t.close());

  Scenario('an error end event nobody catches ends the instance with the error', () => {
    let instance: Instance;
    When('an instance reaches an error end event in a sub-process without a boundary event', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), ERROR_END, 'errorEnd'), []);
      instance = await start(t.as(DEMO), 'errorEnd');
    });
    Then('the instance failed, naming the error and the end event, and did not go on', async () => {
      assert.equal(instance.status, 'failed');
      assert.match(instance.error ?? '', /BROKEN.*<Fail>/);
      assert.deepEqual(await ended(t.as(DEMO), instance.id), []);
    });
  });

  Scenario('an error end event caught by a boundary event of its sub-process', () => {
    let instance: Instance;
    When('the sub-process ends with the error', async () => {
      await deployReasons(t.as(DEMO), ERROR_CAUGHT, 'errorCaught');
      instance = await start(t.as(DEMO), 'errorCaught');
    });
    Then('the boundary path completes the instance', async () => {
      assert.equal(instance.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), instance.id), ['Handled']);
    });
  });

  Scenario('a standard loop repeats while its condition holds, and not at all when it does not', () => {
    Given('a JUEL script task in a loop testing counter < limit before each iteration', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), LOOP, 'countLoop'), []);
    });
    Then('it counts up to the limit', async () => {
      const instance = await start(t.as(DEMO), 'countLoop', { counter: 0, limit: 4 });
      assert.equal(instance.status, 'completed');
      assert.equal(instance.variables.counter, 4);
    });
    And('with the condition false from the start it runs no iteration and completes', async () => {
      const instance = await start(t.as(DEMO), 'countLoop', { counter: 5, limit: 4 });
      assert.equal(instance.status, 'completed');
      assert.equal(instance.variables.counter, 5);
    });
  });

  Scenario('an interrupting timer event sub-process cancels what its scope is doing', () => {
    let id: string;
    Given('a review waits at a user task with a one-hour deadline', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), DEADLINE, 'deadlineSub'), []);
      const instance = await start(t.as(DEMO), 'deadlineSub');
      id = instance.id;
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'running');
      assert.equal(view.tasks.length, 1);
      assert.equal(view.timers.length, 1);
    });
    When('an hour passes and the scheduler fires the timer (a fresh engine recovers the instance)', async () => {
      t.advance(3_600_000 + 1000);
      assert.equal(await t.baton.scheduler.tick(), 1);
    });
    Then('the review task is withdrawn and the instance completes through the deadline', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(view.tasks, []);
      assert.deepEqual(await ended(t.as(DEMO), id), ['TooLate']);
    });
  });

  Scenario('a non-interrupting timer-cycle event sub-process runs on every cycle until its scope is done', () => {
    let id: string;
    const view = async () => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
    Given('a review waits at a user task with an hourly reminder', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), REMINDERS, 'hourlyReminder'), []);
      id = (await start(t.as(DEMO), 'hourlyReminder')).id;
      assert.equal((await view()).timers.length, 1);
    });
    When('three hours pass, the scheduler firing each due timer on a fresh engine', async () => {
      for (let hour = 0; hour < 3; hour++) {
        t.advance(3_600_000 + 1000);
        assert.equal(await t.baton.scheduler.tick(), 1);
      }
    });
    Then('the reminder ran three times, the review still waits and the next reminder is set', async () => {
      const current = await view();
      assert.equal(current.status, 'running');
      assert.equal(current.tasks.length, 1);
      assert.equal(current.timers.length, 1);
      assert.deepEqual(await ended(t.as(DEMO), id), ['Reminded', 'Reminded', 'Reminded']);
    });
    When('the review is done', async () => {
      const task = (await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items[0];
      await t.as(DEMO).post(`/api/tasks/${task.id}/complete`).send({ variables: {} }).expect(204);
    });
    Then('the instance completes and no reminder waits any more', async () => {
      const current = await view();
      assert.equal(current.status, 'completed');
      assert.deepEqual(current.timers, []);
    });
  });

  Scenario('a signal thrown by one instance reaches another that waits for it', () => {
    let waiting: Instance;
    Given('an instance waits for the signal "go"', async () => {
      for (const [index, xml] of SIGNALS.entries()) assert.deepEqual(await deployReasons(t.as(DEMO), xml, index ? 'sayGo' : 'waitForGo'), []);
      waiting = await start(t.as(DEMO), 'waitForGo');
      assert.equal(waiting.status, 'running');
    });
    When('another instance ends with a signal end event "go"', async () => {
      await start(t.as(DEMO), 'sayGo');
      await t.baton.thrownEvents.idle();
    });
    Then('the waiting instance went on and completed', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${waiting.id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), waiting.id), ['Went']);
    });
  });

  Scenario('a parallel join waits for a branch with an exclusive split and merge inside', () => {
    let id: string;
    Given('the branch goes through a user task while the other branch is done at once', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), SPLIT_IN_BRANCH, 'splitInBranch'), []);
      id = (await start(t.as(DEMO), 'splitInBranch', { manual: true })).id;
    });
    Then('the join has not fired: the instance waits at the task, the end not reached', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'running');
      assert.deepEqual(await ended(t.as(DEMO), id), []);
    });
    When('the task is completed', async () => {
      const task = (await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items[0];
      await t.as(DEMO).post(`/api/tasks/${task.id}/complete`).send({ variables: {} }).expect(204);
    });
    Then('the join fires once and the instance completes', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), id), ['End']);
    });
    And('without the task the join fires at once', async () => {
      const instance = await start(t.as(DEMO), 'splitInBranch', { manual: false });
      assert.equal(instance.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), instance.id), ['End']);
    });
  });

  Scenario('token quantities: two tokens out of a task, two needed to start the next', () => {
    let id: string;
    const completeCheck = async () => {
      const tasks = (await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items as { id: string }[];
      assert.equal(tasks.length, 1);
      await t.as(DEMO).post(`/api/tasks/${tasks[0]?.id}/complete`).send({ variables: {} }).expect(204);
    };
    Given('a task with completionQuantity 2 before a user task, then one with startQuantity 2', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), QUANTITIES, 'quantities'), []);
      id = (await start(t.as(DEMO), 'quantities')).id;
    });
    When('the first user task is completed', completeCheck);
    Then('the instance waits for the second token: a second user task, the end not reached', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'running');
      assert.deepEqual(await ended(t.as(DEMO), id), []);
    });
    When('the second user task is completed', completeCheck);
    Then('the task needing two tokens ran once and the instance completed', async () => {
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), id), ['End']);
    });
  });

  Scenario('a call activity runs a process of the same file, and its error reaches the caller', () => {
    const review = async (rejected: boolean): Promise<string> => {
      const id = (await start(t.as(DEMO), 'caller')).id;
      const tasks = (await t.as(DEMO).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items as { id: string; elementId?: string }[];
      assert.equal(tasks.length, 1);
      await t.as(DEMO).post(`/api/tasks/${tasks[0]?.id}/complete`).send({ variables: { rejected } }).expect(204);
      return id;
    };
    Given('a caller whose call activity runs a review process with a user task', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), CALL, 'caller'), []);
    });
    Then('the called process waits at its task within the caller instance, and the caller goes on once it is done', async () => {
      const id = await review(false);
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), id), ['Reviewed', 'Done']);
    });
    And('an error end event of the called process is caught by the boundary event of the call activity', async () => {
      const id = await review(true);
      const view = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(view.status, 'completed');
      assert.deepEqual(await ended(t.as(DEMO), id), ['Refused']);
    });
    And('a call of a process that is not in the file is deployed for viewing only, naming the call', async () => {
      const reasons = await deployReasons(t.as(DEMO), CALL.replace('calledElement="review"', 'calledElement="elsewhere"').replace('"caller"', '"callsElsewhere"'), 'callsElsewhere');
      assert.ok(reasons.some((reason) => reason.includes('<Call>') && reason.includes('elsewhere')), reasons.join('; '));
    });
  });

  Scenario('a signal thrown on one parallel branch reaches the catch event another branch gets to later', () => {
    Then('the catch event with two event definitions catches the signal thrown before it waited', async () => {
      const xml = SIGNAL_BRANCHES('signalBranches', '<bpmn:sequenceFlow id="f2" sourceRef="Throw" targetRef="Thrown" />');
      assert.deepEqual(await deployReasons(t.as(DEMO), xml, 'signalBranches'), []);
      const instance = await start(t.as(DEMO), 'signalBranches');
      assert.equal(instance.status, 'completed');
      assert.deepEqual((await ended(t.as(DEMO), instance.id)).sort(), ['Caught', 'Thrown']);
    });
    And('a catch event after the thrower on its own path does not catch what was thrown before it', async () => {
      const after = `<bpmn:sequenceFlow id="f2" sourceRef="Throw" targetRef="Again" />
    <bpmn:intermediateCatchEvent id="Again"><bpmn:signalEventDefinition signalRef="Ready" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="Again" targetRef="Thrown" />`;
      assert.deepEqual(await deployReasons(t.as(DEMO), SIGNAL_BRANCHES('signalBranchesThen', after), 'signalBranchesThen'), []);
      const instance = await start(t.as(DEMO), 'signalBranchesThen');
      assert.equal(instance.status, 'running');
      assert.ok(!(await ended(t.as(DEMO), instance.id)).includes('Thrown'));
    });
  });

  Scenario('a complex gateway that splits gives a token to each flow whose condition holds, else the default', () => {
    Then('each choice of conditions reaches the ends it names', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), COMPLEX_SPLIT, 'complexSplit'), []);
      for (const [variables, ends] of [
        [{ a: true, b: true }, ['A', 'B']],
        [{ a: false, b: true }, ['B']],
        [{ a: false, b: false }, ['C']],
      ] as const) {
        const instance = await start(t.as(DEMO), 'complexSplit', variables);
        assert.equal(instance.status, 'completed');
        assert.deepEqual((await ended(t.as(DEMO), instance.id)).sort(), ends);
      }
    });
  });

  Scenario('JUEL and FEEL conditions choose the path', () => {
    Given('a JUEL gateway and a FEEL gateway', async () => {
      assert.deepEqual(await deployReasons(t.as(DEMO), conditions('juelRoute', '${amount &gt;= 100 &amp;&amp; !blocked}', '${customer.name.contains("VIP")}'), 'juelRoute'), []);
      assert.deepEqual(await deployReasons(t.as(DEMO), conditions('feelRoute', '=amount &gt;= 100 and not(blocked)', '=contains(customer.name, "VIP")'), 'feelRoute'), []);
    });
    Then('both route by the variables', async () => {
      for (const key of ['juelRoute', 'feelRoute']) {
        const big = await start(t.as(DEMO), key, { amount: 150, blocked: false, customer: { name: 'Ann' } });
        assert.deepEqual(await ended(t.as(DEMO), big.id), ['Big'], key);
        const vip = await start(t.as(DEMO), key, { amount: 10, blocked: false, customer: { name: 'VIP Bob' } });
        assert.deepEqual(await ended(t.as(DEMO), vip.id), ['Vip'], key);
        const small = await start(t.as(DEMO), key, { amount: 150, blocked: true, customer: { name: 'Cy' } });
        assert.deepEqual(await ended(t.as(DEMO), small.id), ['Small'], key);
      }
    });
  });

  Scenario('expressions cannot reach the host', () => {
    Then('escape attempts are refused at deployment, naming what is not allowed', async () => {
      const attempts = [
        '${"".constructor.constructor("return process")()}',
        '${customer.__proto__}',
        '${customer["constructor"]}',
        '${customer[key]}',
        '${require("child_process")}',
        '${process.exit(1)}',
        '=customer.constructor',
        '=x.__proto__',
      ];
      for (const [index, attempt] of attempts.entries()) {
        const key = `escape${index}`;
        const escaped = attempt.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        const reasons = await deployReasons(t.as(DEMO), conditions(key, escaped, '${false}'), key);
        assert.ok(reasons.some((r) => /not allowed|computed property|only the methods/.test(r)), `${attempt}: ${reasons.join('; ')}`);
        assert.equal((await t.as(DEMO).post(`/api/processes/${key}/instances`).send({ variables: {} })).status >= 400, true);
      }
    });
    And('names of the host are only variables: process, this and globalThis are no data', async () => {
      const key = 'hostNames';
      assert.deepEqual(await deployReasons(t.as(DEMO), conditions(key, '${process == null &amp;&amp; this == null &amp;&amp; globalThis == null}', '${false}'), key), []);
      const instance = await start(t.as(DEMO), key, { amount: 1 });
      assert.deepEqual(await ended(t.as(DEMO), instance.id), ['Big']);
    });
  });

  Scenario('script tasks run only in the formats an operator enabled', () => {
    const script = (format: string) =>
      bpmn('scripted', `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Run" />
      <bpmn:scriptTask id="Run" scriptFormat="${format}"><bpmn:script>require('fs')</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="f2" sourceRef="Run" targetRef="End" /><bpmn:endEvent id="End" />`);
    Then('JavaScript is refused even where juel and feel are enabled', async () => {
      const reasons = await deployReasons(t.as(DEMO), script('javascript'), 'scripted');
      assert.ok(reasons.some((r) => /<Run>.*"javascript", which is not enabled.*juel, feel/.test(r)), reasons.join('; '));
    });
    And('a server without BATON_SCRIPT_FORMATS refuses every script task', async () => {
      const plain = await startBaton();
      try {
        const reasons = await deployReasons(plain.as(DEMO), script('juel'), 'scripted');
        assert.ok(reasons.some((r) => /<Run>.*BATON_SCRIPT_FORMATS/.test(r)), reasons.join('; '));
      } finally {
        await plain.close();
      }
    });
  });
});
