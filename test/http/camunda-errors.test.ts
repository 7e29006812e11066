import assert from 'node:assert/strict';
import { DEMO, MARY, WORKER, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

const SALARY = readProcess('processes/salary/salary.bpmn');

Feature('Errors under /engine-rest come in Camunda\'s shape', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await t.as(DEMO).post('/engine-rest/deployment/create').attach('data', Buffer.from(SALARY), 'salary.bpmn').expect(200);
  });
  after(() => t.close());

  Scenario('an endpoint Baton does not implement answers 501 naming it', () => {
    Then('GET /engine-rest/job, a process instance modification and external-task lock are 501', async () => {
      for (const [method, url] of [
        ['get', '/engine-rest/job'],
        ['post', '/engine-rest/process-instance/abc/modification'],
        ['post', '/engine-rest/external-task/abc/lock'],
      ] as const) {
        const res = await t.as(DEMO)[method](url).expect(501);
        assert.equal(res.headers['content-type'], 'application/json');
        assert.equal(res.body.type, 'RestException');
        assert.ok(res.body.message.startsWith(`${method.toUpperCase()} ${url} is not implemented by Baton`), res.body.message);
      }
    });
  });

  Scenario('a request without valid credentials gets 401', () => {
    Then('no credentials and a wrong password are refused with a Basic challenge', async () => {
      const anonymous = await t.anonymous().get('/engine-rest/task').expect(401);
      assert.match(anonymous.headers['www-authenticate'] ?? '', /^Basic /);
      await t.as({ user: 'mary', password: 'wrong' }).get('/engine-rest/task').expect(401);
    });
  });

  Scenario('unknown resources answer 404 and bad requests 400, as {type, message}', () => {
    Then('missing instances, tasks, external tasks and definitions are 404 InvalidRequestException', async () => {
      const expect404 = async (method: 'get' | 'post', url: string, message: string, body: object = {}) => {
        const res = await t.as(DEMO)[method](url).send(body).expect(404);
        assert.equal(res.headers['content-type'], 'application/json');
        assert.deepEqual(res.body, { type: 'InvalidRequestException', message });
      };
      await expect404('get', '/engine-rest/process-instance/nope', 'Process instance with id nope does not exist');
      await expect404('get', '/engine-rest/task/nope', 'No matching task with id nope');
      await expect404('get', '/engine-rest/deployment/nope', "Deployment with id 'nope' does not exist");
      await expect404('post', '/engine-rest/process-definition/key/nope/start', 'No matching process definition with key: nope and no tenant-id');
      const worker = await t.as(WORKER).post('/engine-rest/external-task/nope/complete').send({ workerId: 'w' }).expect(404);
      assert.deepEqual(worker.body, { type: 'InvalidRequestException', message: 'External task with id nope does not exist' });
    });

    Then('bad bodies and variables are 400 InvalidRequestException naming the problem', async () => {
      const noWorker = await t.as(WORKER).post('/engine-rest/external-task/fetchAndLock').send({ topics: [] }).expect(400);
      assert.equal(noWorker.body.type, 'InvalidRequestException');
      assert.match(noWorker.body.message, /workerId/);
      const wrongType = await t.as(DEMO)
        .post('/engine-rest/process-definition/key/salary/start')
        .send({ variables: { employeeId: { value: 'x', type: 'Integer' } } })
        .expect(400);
      assert.equal(wrongType.body.type, 'InvalidRequestException');
      assert.match(wrongType.body.message, /employeeId/);
      const unknownType = await t.as(DEMO)
        .post('/engine-rest/process-definition/key/salary/start')
        .send({ variables: { employeeId: { value: 'x', type: 'Banana' } } })
        .expect(400);
      assert.match(unknownType.body.message, /unsupported value type 'Banana'/);
      const filter = await t.as(WORKER)
        .post('/engine-rest/external-task/fetchAndLock')
        .send({ workerId: 'w', maxTasks: 1, topics: [{ topicName: 'bonus.calculate', lockDuration: 1000, processDefinitionKey: 'salary' }] })
        .expect(400);
      assert.match(filter.body.message, /'processDefinitionKey' is not supported by Baton/);
      const nobody = await t.as(WORKER).post('/engine-rest/message').send({ messageName: 'Nobody waits' }).expect(400);
      assert.deepEqual(nobody.body, { type: 'RestException', message: "Cannot correlate message 'Nobody waits': No process definition or execution matches the parameters" });
    });

    Then('a user without the worker role is refused external tasks with 403 AuthorizationException', async () => {
      const res = await t.as(MARY).post('/engine-rest/external-task/fetchAndLock').send({ workerId: 'm', topics: [] }).expect(403);
      assert.equal(res.body.type, 'AuthorizationException');
      assert.equal(res.body.userId, 'mary');
    });
  });
});
