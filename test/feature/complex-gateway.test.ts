import assert from 'node:assert/strict';
import { DEMO, bpmn, startBaton, type TestBaton } from '../helpers/baton.ts';
import { instanceSteps } from '../helpers/instance-steps.ts';

/**
 * Complex gateways that join (BPMN 2.0, 13.4.5), through the REST API: the gateway fires once its
 * activationCondition over `activationCount` holds, swallows the tokens the other branches bring
 * in the same cycle, and then resets for the next cycle. Every step is a separate run on a fresh
 * engine, so where the gateway's cycle stands goes through the saved state each time.
 */

/**
 * Three review branches meet at a complex gateway; after it, a user task decides whether the
 * reviews start over (a second cycle) or the instance ends.
 */
const reviews = (key: string, activation: string) =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Round" />
    <bpmn:exclusiveGateway id="Round" />
    <bpmn:sequenceFlow id="f1" sourceRef="Round" targetRef="Fork" />
    <bpmn:parallelGateway id="Fork" />
    <bpmn:sequenceFlow id="fa" sourceRef="Fork" targetRef="A" />
    <bpmn:sequenceFlow id="fb" sourceRef="Fork" targetRef="B" />
    <bpmn:sequenceFlow id="fc" sourceRef="Fork" targetRef="C" />
    <bpmn:userTask id="A" camunda:assignee="demo" />
    <bpmn:userTask id="B" camunda:assignee="demo" />
    <bpmn:userTask id="C" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="ja" sourceRef="A" targetRef="Enough" />
    <bpmn:sequenceFlow id="jb" sourceRef="B" targetRef="Enough" />
    <bpmn:sequenceFlow id="jc" sourceRef="C" targetRef="Enough" />
    <bpmn:complexGateway id="Enough">
      <bpmn:activationCondition xsi:type="bpmn:tFormalExpression">${activation}</bpmn:activationCondition>
    </bpmn:complexGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="Enough" targetRef="Decide" />
    <bpmn:userTask id="Decide" camunda:assignee="demo" />
    <bpmn:sequenceFlow id="f3" sourceRef="Decide" targetRef="Again" />
    <bpmn:exclusiveGateway id="Again" default="f5" />
    <bpmn:sequenceFlow id="f4" sourceRef="Again" targetRef="Round"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${again}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="Again" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );

// each scenario twice: every event recovering the instance from the store, and on the engine kept in memory
for (const liveEngines of ['0', '64']) {
  Feature(`Complex gateways join by their activationCondition (${liveEngines === '0' ? 'recovered from the store' : 'engines kept in memory'})`, () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton({ env: { BATON_LIVE_ENGINES: liveEngines } });
    });
    after(() => t.close());

    const { deploy, open, complete, status, completions: runs } = instanceSteps(() => t);

    Scenario('the discriminator: the first branch through, the other two swallowed, then the next cycle', () => {
      let id: string;
      Given('three review branches joined by a complex gateway with activationCount >= 1', async () => {
        await deploy(reviews('discriminator', '${activationCount >= 1}'), 'discriminator');
        id = (await t.as(DEMO).post('/api/processes/discriminator/instances').send({ variables: {} }).expect(201)).body.id;
        assert.deepEqual(await open(id), ['A', 'B', 'C']);
      });
      When('the first review is done', () => complete(id, 'B'));
      Then('the gateway fires at once: the decision waits beside the two other reviews', async () => {
        assert.deepEqual(await open(id), ['A', 'C', 'Decide']);
      });
      When('the two other reviews are done', async () => {
        await complete(id, 'C');
        await complete(id, 'A');
      });
      Then('their tokens are swallowed: still one decision, no other task', async () => {
        assert.deepEqual(await open(id), ['Decide']);
        assert.equal(await status(id), 'running');
      });
      When('the reviews start over', () => complete(id, 'Decide', { again: true }));
      Then('the gateway has reset: the first review of the new cycle passes it again', async () => {
        assert.deepEqual(await open(id), ['A', 'B', 'C']);
        await complete(id, 'A');
        assert.deepEqual(await open(id), ['B', 'C', 'Decide']);
      });
      When('the rest of the cycle is done and the decision ends it', async () => {
        await complete(id, 'B');
        await complete(id, 'C');
        await complete(id, 'Decide', { again: false });
      });
      Then('the instance completes, the decision made once per cycle', async () => {
        assert.equal(await status(id), 'completed');
        assert.equal(await runs(id, 'Decide'), 2);
      });
    });

    Scenario('a token of the next cycle waits until the gateway has reset', () => {
      let id: string;
      Given('the discriminator fired on review B and the reviews start over at once', async () => {
        id = (await t.as(DEMO).post('/api/processes/discriminator/instances').send({ variables: {} }).expect(201)).body.id;
        await complete(id, 'B');
        await complete(id, 'Decide', { again: true });
        // A and C of the first round still wait; the new round's tokens for them queue behind them
        assert.deepEqual(await open(id), ['A', 'B', 'C']);
      });
      When('review B of the new round is done before the first round is', () => complete(id, 'B'));
      Then('the gateway does not fire: it still waits for A and C of the first round', async () => {
        assert.deepEqual(await open(id), ['A', 'C']);
      });
      When('A and C of the first round are done', async () => {
        await complete(id, 'A');
        await complete(id, 'C');
      });
      Then('their tokens are swallowed, the gateway resets, and the waiting B passes it: the decision of the new round', async () => {
        assert.deepEqual(await open(id), ['A', 'C', 'Decide']);
      });
      When('the round ends', async () => {
        await complete(id, 'A');
        await complete(id, 'C');
        await complete(id, 'Decide', { again: false });
      });
      Then('the instance completes', async () => {
        assert.equal(await status(id), 'completed');
        assert.equal(await runs(id, 'Decide'), 2);
      });
    });

    Scenario('two of three: the gateway waits until its condition holds', () => {
      let id: string;
      Given('the same branches joined with activationCount >= 2', async () => {
        await deploy(reviews('twoOfThree', '${activationCount >= 2}'), 'twoOfThree');
        id = (await t.as(DEMO).post('/api/processes/twoOfThree/instances').send({ variables: {} }).expect(201)).body.id;
      });
      When('one review is done', () => complete(id, 'C'));
      Then('the gateway has not fired', async () => {
        assert.deepEqual(await open(id), ['A', 'B']);
      });
      When('a second review is done', () => complete(id, 'A'));
      Then('it fires once', async () => {
        assert.deepEqual(await open(id), ['B', 'Decide']);
      });
      When('the last review is done and the decision ends the instance', async () => {
        await complete(id, 'B');
        assert.deepEqual(await open(id), ['Decide']);
        await complete(id, 'Decide', { again: false });
      });
      Then('the instance completes', async () => {
        assert.equal(await status(id), 'completed');
        assert.equal(await runs(id, 'Decide'), 1);
      });
    });

    Scenario('a complex gateway that joins without an activationCondition in the expression language', () => {
      Then('it is deployed for viewing only, naming the gateway', async () => {
        const xml = reviews('noCondition', '').replace(/<bpmn:activationCondition[^>]*><\/bpmn:activationCondition>/, '');
        await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'noCondition.bpmn').expect(201);
        const res = await t.as(DEMO).post('/api/processes/noCondition/instances').send({}).expect(400);
        assert.deepEqual(
          res.body.problems.map((problem: { message: string }) => problem.message),
          ['complexGateway <Enough>: it joins without an activationCondition, which says when it fires'],
        );
      });
      And('so is one whose activationCondition is text instead of an expression', async () => {
        await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(reviews('textCondition', 'two of three')), 'textCondition.bpmn').expect(201);
        const res = await t.as(DEMO).post('/api/processes/textCondition/instances').send({}).expect(400);
        assert.deepEqual(
          res.body.problems.map((problem: { message: string }) => problem.message),
          ['complexGateway <Enough>: its activationCondition "two of three" is text, not an expression such as ${activationCount >= 2}'],
        );
      });
    });
  });
}
