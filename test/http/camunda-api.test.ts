import assert from 'node:assert/strict';
import { DEMO, MARY, WORKER, bpmn, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

const INVOICE = readProcess('test/fixtures/camunda-modeler-invoice.bpmn');
const PAYMENT = bpmn(
  'payment',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="AwaitPayment" />
    <bpmn:receiveTask id="AwaitPayment" name="Await payment" messageRef="PaymentReceived" />
    <bpmn:sequenceFlow id="f2" sourceRef="AwaitPayment" targetRef="Paid" />
    <bpmn:endEvent id="Paid" />`,
  '<bpmn:message id="PaymentReceived" name="payment-received" />',
);

const typed = (value: unknown, type: string) => ({ value, type, valueInfo: {} });

Feature('The /engine-rest API answers as Camunda 7 does', () => {
  let t: TestBaton;
  const deploy = (xml: string, file: string) =>
    t.as(DEMO).post('/engine-rest/deployment/create').field('deployment-name', file).attach('upload', Buffer.from(xml), file).expect(200);
  const startInvoice = async (amount: number, businessKey: string): Promise<string> =>
    (await t.as(DEMO).post('/engine-rest/process-definition/key/invoice/start').send({ businessKey, variables: { amount: typed(amount, 'Long') } }).expect(200))
      .body.id;
  const fetchAndLock = (workerId: string, topics: object[], extra: object = {}) =>
    t.as(WORKER).post('/engine-rest/external-task/fetchAndLock').send({ workerId, maxTasks: 10, topics, ...extra });

  before(async () => {
    t = await startBaton();
    await deploy(INVOICE, 'invoice.bpmn');
    await deploy(PAYMENT, 'payment.bpmn');
  });
  after(() => t.close());

  Scenario('variables keep their Camunda types through Baton', () => {
    Then('String, Boolean, Integer, Long, Double, Json, Object (JSON), Date and Null go in and come back typed', async () => {
      const res = await t.as(DEMO)
        .post('/engine-rest/process-definition/key/payment/start')
        .send({
          withVariablesInReturn: true,
          variables: {
            customer: typed('ACME', 'String'),
            vip: typed('true', 'Boolean'),
            items: typed(3, 'Integer'),
            cents: typed(9_007_199_254_740_991, 'Long'),
            rate: typed('0.25', 'Double'),
            address: typed('{"city":"Ghent","zip":[9000]}', 'Json'),
            order: { value: '{"id":7}', type: 'Object', valueInfo: { objectTypeName: 'java.util.HashMap', serializationDataFormat: 'application/json' } },
            due: typed('2024-01-31T09:30:00.000+0100', 'Date'),
            note: typed(null, 'Null'),
            untyped: { value: 12 },
          },
        })
        .expect(200);
      assert.deepEqual(res.body.variables, {
        customer: typed('ACME', 'String'),
        vip: typed(true, 'Boolean'),
        items: typed(3, 'Integer'),
        cents: typed(9_007_199_254_740_991, 'Long'),
        rate: typed(0.25, 'Double'),
        address: typed('{"city":"Ghent","zip":[9000]}', 'Json'),
        order: typed('{"id":7}', 'Json'),
        due: typed('2024-01-31T08:30:00.000Z', 'String'),
        note: typed(null, 'Null'),
        untyped: typed(12, 'Integer'),
      });
    });

    Then('Bytes, File, Java-serialized objects and ill-typed values are refused with 400', async () => {
      for (const [variable, pattern] of [
        [typed('AAEC', 'Bytes'), /does not store Bytes/],
        [{ value: 'rO0AB', type: 'Object', valueInfo: { serializationDataFormat: 'application/x-java-serialized-object' } }, /application\/json/],
        [typed(2 ** 31, 'Integer'), /is not a Integer/],
        [typed('soon', 'Date'), /is not a Date/],
        [typed('{broken', 'Json'), /not valid JSON/],
      ] as const) {
        const res = await t.as(DEMO).post('/engine-rest/process-definition/key/payment/start').send({ variables: { x: variable } }).expect(400);
        assert.equal(res.body.type, 'InvalidRequestException');
        assert.match(res.body.message, pattern);
      }
    });
  });

  Scenario('user tasks: query, claim, unclaim, complete and submit-form', () => {
    let first: string;
    let second: string;
    let taskId: string;
    Given('two invoices wait for approval by the managers', async () => {
      first = await startInvoice(100, 'INV-1');
      second = await startInvoice(200, 'INV-2');
    });

    Then('mary finds them by Camunda\'s task query parameters', async () => {
      const query = async (q: string) => (await t.as(MARY).get(`/engine-rest/task?${q}`).expect(200)).body as { processInstanceId: string; id: string }[];
      const mine = await query('candidateGroup=managers&taskDefinitionKey=ApproveInvoice&processDefinitionKey=invoice&unassigned=true');
      assert.deepEqual(mine.map((task) => task.processInstanceId).sort(), [first, second].sort());
      assert.deepEqual((await query('processInstanceBusinessKey=INV-2')).map((task) => task.processInstanceId), [second]);
      assert.deepEqual((await query(`processInstanceId=${first}&firstResult=0&maxResults=1`)).length, 1);
      assert.deepEqual(await query('taskDefinitionKey=Nothing'), []);
      assert.equal((await t.as(MARY).get('/engine-rest/task/count?candidateUser=mary').expect(200)).body.count, 2);
      taskId = (await query(`processInstanceId=${first}`))[0]!.id;
      const one = await t.as(MARY).get(`/engine-rest/task/${taskId}`).expect(200);
      assert.match(one.body.processDefinitionId, /^invoice:1:/);
    });

    Then('a task is claimed for oneself only, and a claimed task is refused to others as Camunda does', async () => {
      const forOther = await t.as(MARY).post(`/engine-rest/task/${taskId}/claim`).send({ userId: 'demo' }).expect(403);
      assert.equal(forOther.body.type, 'AuthorizationException');
      await t.as(MARY).post(`/engine-rest/task/${taskId}/claim`).send({ userId: 'mary' }).expect(204);
      const taken = await t.as(DEMO).get(`/engine-rest/task?processInstanceId=${first}&assignee=mary`).expect(200);
      assert.equal(taken.body[0].assignee, 'mary');
      await t.as(MARY).post(`/engine-rest/task/${taskId}/unclaim`).expect(204);
      await t.as(MARY).post(`/engine-rest/task/${taskId}/claim`).send({ userId: 'mary' }).expect(204);
      const again = await t.as(DEMO).post(`/engine-rest/task/${taskId}/claim`).send({ userId: 'demo' }).expect(500);
      assert.deepEqual(again.body, { type: 'TaskAlreadyClaimedException', message: `Task '${taskId}' is already claimed by someone else.`, code: 0 });
    });

    When('mary submits the form and asks for the variables back', async () => {
      const res = await t.as(MARY)
        .post(`/engine-rest/task/${taskId}/submit-form`)
        .send({ withVariablesInReturn: true, variables: { approvedBy: typed('mary', 'String') } })
        .expect(200);
      assert.deepEqual(res.body, { amount: typed(100, 'Integer'), approvedBy: typed('mary', 'String') });
    });

    Then('the archive worker gets INV-1 next and finishes it', async () => {
      const res = await fetchAndLock('archiver', [{ topicName: 'invoice.archive', lockDuration: 60_000 }]).expect(200);
      assert.deepEqual(res.body.map((task: { businessKey: string }) => task.businessKey), ['INV-1']);
      await t.as(WORKER).post(`/engine-rest/external-task/${res.body[0].id}/complete`).send({ workerId: 'archiver' }).expect(204);
    });

    Then('completing the finished task again is Camunda\'s 500 "Cannot complete task"', async () => {
      const res = await t.as(MARY).post(`/engine-rest/task/${taskId}/complete`).send({}).expect(500);
      assert.equal(res.body.type, 'RestException');
      assert.ok(res.body.message.startsWith(`Cannot complete task ${taskId}: `), res.body.message);
      const missing = await t.as(MARY).post('/engine-rest/task/nope/claim').send({ userId: 'mary' }).expect(500);
      assert.equal(missing.body.type, 'NullValueException');
    });
  });

  Scenario('external tasks over plain REST: long polling, variables, locks and incidents', () => {
    let instanceId: string;
    let taskId: string;
    Given('a worker is long-polling for archive work when an invoice is approved', async () => {
      instanceId = await startInvoice(300, 'INV-3');
      const polling = fetchAndLock('archiver', [{ topicName: 'invoice.archive', lockDuration: 60_000, variables: ['amount'] }], { asyncResponseTimeout: 20_000 });
      const started = Date.now();
      const pending = polling.then((res) => res);
      const task = (await t.as(MARY).get(`/engine-rest/task?processInstanceId=${instanceId}`).expect(200)).body[0];
      await t.as(MARY).post(`/engine-rest/task/${task.id}/complete`).send({ variables: { archivedBy: typed('robot', 'String') } }).expect(204);
      const res = await pending;
      assert.equal(res.status, 200);
      assert.ok(Date.now() - started < 10_000, 'answered when work arrived, not at the timeout');
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.body.length, 1);
      const [locked] = res.body;
      taskId = locked.id;
      assert.equal(locked.processInstanceId, instanceId);
      assert.equal(locked.activityId, 'ArchiveInvoice');
      assert.equal(locked.workerId, 'archiver');
      assert.equal(locked.businessKey, 'INV-3');
      assert.deepEqual(locked.variables, { amount: typed(300, 'Integer') });
      assert.match(locked.lockExpirationTime, /\+0000$/);
    });

    Then('only the lock holder may finish or extend it: others get 400', async () => {
      const other = await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/complete`).send({ workerId: 'intruder' }).expect(400);
      assert.equal(other.body.type, 'BadUserRequestException');
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/extendLock`).send({ workerId: 'intruder', newDuration: 1000 }).expect(400);
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/extendLock`).send({ workerId: 'archiver', newDuration: 120_000 }).expect(204);
      const local = await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/complete`).send({ workerId: 'archiver', localVariables: { x: typed(1, 'Integer') } }).expect(400);
      assert.match(local.body.message, /'localVariables' is not supported/);
    });

    When('the lock is released, another worker takes it and fails it for good', async () => {
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/unlock`).expect(204);
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/unlock`).expect(204);
      const res = await fetchAndLock('second', [{ topicName: 'invoice.archive', lockDuration: 60_000 }]).expect(200);
      assert.deepEqual(res.body.map((task: { id: string }) => task.id), [taskId]);
      await t.as(WORKER).post(`/engine-rest/external-task/${taskId}/failure`).send({ workerId: 'second', errorMessage: 'archive full', retries: 0, retryTimeout: 0 }).expect(204);
    });

    Then('the incident is listed and counted, and filtered by activity', async () => {
      const incidents = (await t.as(DEMO).get('/engine-rest/incident?activityId=ArchiveInvoice').expect(200)).body;
      assert.deepEqual(incidents.map((i: { processInstanceId: string; incidentMessage: string }) => [i.processInstanceId, i.incidentMessage]), [[instanceId, 'archive full']]);
      assert.equal((await t.as(DEMO).get('/engine-rest/incident/count?incidentType=failedJob').expect(200)).body.count, 0);
      const timeout = await fetchAndLock('w', [], { asyncResponseTimeout: 1_800_001 }).expect(400);
      assert.match(timeout.body.message, /1800000/);
    });
  });

  Scenario('messages are correlated by business key, to one instance or to all', () => {
    let a: string;
    let b: string;
    Given('two payments wait for their message', async () => {
      a = (await t.as(DEMO).post('/engine-rest/process-definition/key/payment/start').send({ businessKey: 'ORDER-A' }).expect(200)).body.id;
      b = (await t.as(DEMO).post('/engine-rest/process-definition/key/payment/start').send({ businessKey: 'ORDER-B' }).expect(200)).body.id;
    });

    Then('a message for no one in particular is refused while several instances wait', async () => {
      const res = await t.as(WORKER).post('/engine-rest/message').send({ messageName: 'payment-received' }).expect(400);
      assert.match(res.body.message, /process instances wait for it/);
    });

    When('the message for ORDER-A arrives with the result asked for', async () => {
      const res = await t.as(WORKER)
        .post('/engine-rest/message')
        .send({ messageName: 'payment-received', businessKey: 'ORDER-A', processVariables: { paid: typed(42.5, 'Double') }, resultEnabled: true })
        .expect(200);
      assert.deepEqual(res.body, [{ resultType: 'Execution', execution: { id: a, processInstanceId: a, ended: false, tenantId: null }, processInstance: null }]);
    });

    Then('ORDER-A is finished with the message variables, ORDER-B still waits', async () => {
      const done = await t.as(DEMO).get(`/engine-rest/history/process-instance/${a}`).expect(200);
      assert.equal(done.body.state, 'COMPLETED');
      await t.as(DEMO).get(`/engine-rest/process-instance/${b}`).expect(200);
      await t.as(WORKER).post('/engine-rest/message').send({ messageName: 'payment-received', all: true }).expect(204);
      assert.equal((await t.as(DEMO).get(`/engine-rest/history/process-instance/${b}`).expect(200)).body.state, 'COMPLETED');
    });
  });

  Scenario('definitions, instances and history are queried with Camunda\'s parameters', () => {
    Then('process definitions by key and name, and their count', async () => {
      assert.equal((await t.as(MARY).get('/engine-rest/process-definition/count').expect(200)).body.count, 2);
      const like = await t.as(MARY).get('/engine-rest/process-definition?nameLike=Invoice%25').expect(200);
      assert.deepEqual(like.body.map((d: { key: string }) => d.key), ['invoice']);
      const byKey = await t.as(MARY).get('/engine-rest/process-definition/key/invoice').expect(200);
      assert.equal(byKey.body.name, 'Invoice approval');
      const xml = await t.as(MARY).get('/engine-rest/process-definition/key/invoice/xml').expect(200);
      assert.equal(xml.body.id, byKey.body.id);
      await t.as(MARY).get('/engine-rest/process-definition/invoice:9:nope').expect(404);
    });

    Then('running instances by definition and business key; ended ones only in history', async () => {
      const running = await t.as(DEMO).get('/engine-rest/process-instance?processDefinitionKey=invoice').expect(200);
      assert.deepEqual(running.body.map((i: { businessKey: string }) => i.businessKey).sort(), ['INV-2', 'INV-3']);
      assert.equal((await t.as(DEMO).get('/engine-rest/process-instance/count?businessKey=INV-1').expect(200)).body.count, 0);
      const finished = await t.as(DEMO).get('/engine-rest/history/process-instance?finished=true&processDefinitionKey=invoice').expect(200);
      assert.deepEqual(finished.body.map((i: { businessKey: string; state: string }) => [i.businessKey, i.state]), [['INV-1', 'COMPLETED']]);
      assert.equal((await t.as(DEMO).get('/engine-rest/history/process-instance/count?unfinished=true').expect(200)).body.count, 2);
      const own = await t.as(MARY).get('/engine-rest/process-instance').expect(200);
      assert.deepEqual(own.body, [], 'mary started none of them');
    });

    Then('activity instances of one instance, sorted as asked; without an instance 400', async () => {
      const [inv1] = (await t.as(DEMO).get('/engine-rest/history/process-instance?processInstanceBusinessKey=INV-1').expect(200)).body;
      const res = await t.as(DEMO).get(`/engine-rest/history/activity-instance?processInstanceId=${inv1.id}&sortBy=startTime&sortOrder=desc`).expect(200);
      assert.deepEqual(res.body.map((a: { activityId: string }) => a.activityId), ['InvoiceDone', 'ArchiveInvoice', 'ApproveInvoice', 'InvoiceReceived']);
      const approval = res.body.find((a: { activityId: string }) => a.activityId === 'ApproveInvoice');
      assert.equal(approval.assignee, 'mary');
      assert.equal((await t.as(DEMO).get(`/engine-rest/history/activity-instance/count?processInstanceId=${inv1.id}&activityType=userTask`).expect(200)).body.count, 1);
      const bad = await t.as(DEMO).get('/engine-rest/history/activity-instance').expect(400);
      assert.match(bad.body.message, /processInstanceId/);
    });
  });
});
