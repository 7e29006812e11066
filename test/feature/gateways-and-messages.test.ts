import assert from 'node:assert/strict';
import { DEMO, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const ROUTING = bpmn(
  'routing',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Amount" />
    <bpmn:exclusiveGateway id="Amount" default="small" />
    <bpmn:sequenceFlow id="large" sourceRef="Amount" targetRef="Large">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${amount &gt; 100 &amp;&amp; customer.tier == "gold"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="rejected" sourceRef="Amount" targetRef="Rejected">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${!approved}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="Amount" targetRef="Small" />
    <bpmn:endEvent id="Large" /><bpmn:endEvent id="Rejected" /><bpmn:endEvent id="Small" />`,
);

const PAYMENT = bpmn(
  'payment',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="AwaitPayment" />
    <bpmn:receiveTask id="AwaitPayment" name="Await payment" messageRef="PaymentReceived" />
    <bpmn:sequenceFlow id="f2" sourceRef="AwaitPayment" targetRef="Paid" />
    <bpmn:endEvent id="Paid" />`,
  '<bpmn:message id="PaymentReceived" name="payment-received" />',
);

Feature('Conditions are evaluated by a sandboxed evaluator', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), ROUTING, 'routing.bpmn');
    await deploy(t.as(DEMO), PAYMENT, 'payment.bpmn');
  });
  after(() => t.close());

  const endOf = async (variables: object): Promise<string[]> => {
    const id = (await t.as(DEMO).post('/api/processes/routing/instances').send({ variables }).expect(201)).body.id;
    const shown = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
    assert.equal(shown.status, 'completed');
    return shown.elements.filter((e: { type: string }) => e.type === 'bpmn:EndEvent').map((e: { id: string }) => e.id);
  };

  Scenario('an exclusive gateway takes the flow whose condition holds', () => {
    Then('comparisons, negation, nested properties and the default flow work', async () => {
      assert.deepEqual(await endOf({ amount: 150, approved: true, customer: { tier: 'gold' } }), ['Large']);
      assert.deepEqual(await endOf({ amount: 150, approved: true, customer: { tier: 'silver' } }), ['Small']);
      assert.deepEqual(await endOf({ amount: 50, approved: false, customer: { tier: 'gold' } }), ['Rejected']);
    });
  });

  Scenario('expressions cannot reach outside the data', () => {
    Then('escape attempts are refused at deployment', async () => {
      for (const expression of ['${amount.constructor}', '${amount["constructor"]}', '${x.__proto__}', '${process.exit(1)}', '${require("fs")}']) {
        const xml = ROUTING.replace('${!approved}', expression.replace(/"/g, '&quot;')).replace('id="routing"', 'id="escape"');
        const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'escape.bpmn').expect(400);
        assert.equal(res.body.problems[0].path, 'rejected', expression);
      }
      assert.equal((await t.as(DEMO).get('/api/processes/escape').expect(404)).type, 'application/problem+json');
    });
    And('names like process or this are only variables', async () => {
      const xml = ROUTING.replace('${!approved}', '${process}').replace('id="routing"', 'id="shadow"');
      await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'shadow.bpmn').expect(201);
      const id = (await t.as(DEMO).post('/api/processes/shadow/instances').send({ variables: { amount: 1, customer: {} } }).expect(201)).body.id;
      const shown = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.deepEqual(shown.elements.filter((e: { type: string }) => e.type === 'bpmn:EndEvent').map((e: { id: string }) => e.id), ['Small']);
    });
  });

  Scenario('a receive task waits for its message', () => {
    let id: string;
    Given('an order waits for payment', async () => {
      id = (await t.as(DEMO).post('/api/processes/payment/instances').send({ businessKey: 'ORDER-7' }).expect(201)).body.id;
    });
    Then('a message for another order is not delivered', async () => {
      const res = await t.as(WORKER).post('/api/messages').send({ name: 'payment-received', correlationKey: 'ORDER-8' }).expect(404);
      assert.equal(res.type, 'application/problem+json');
      await t.as(WORKER).post('/api/messages').send({ correlationKey: 'ORDER-7' }).expect(400);
    });
    When('the payment message arrives for its business key', async () => {
      const res = await t.as(WORKER).post('/api/messages').send({ name: 'payment-received', correlationKey: 'ORDER-7', variables: { paidAmount: 42 } }).expect(200);
      assert.deepEqual(res.body.instances, [id]);
    });
    Then('the instance continues with the message variables', async () => {
      const shown = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
      assert.equal(shown.status, 'completed');
      assert.equal(shown.variables.paidAmount, 42);
      await t.as(WORKER).post('/api/messages').send({ name: 'payment-received', instanceId: id }).expect(404);
    });
  });
});
