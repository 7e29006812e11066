/**
 * Expressions that would take the server's memory or time (issue 15, finding 1): a range of a
 * billion numbers from a start form, a huge literal range in a model, a JUEL expression that
 * builds ever longer strings. Each becomes an incident naming the bound it passed; the server
 * stays up and answers /health within a second throughout, also when a timer leads to the
 * expression and the server is killed and restarted.
 */
import assert from 'node:assert/strict';
import { DEMO, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { eventually, makeDataDir, removeDataDir, spawnServer, type ServerProcess } from '../helpers/server-process.ts';

const xmlText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** start → gateway whose condition is the expression → end; `before` goes between start and gateway */
const gateway = (key: string, expression: string, before = ''): string =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="${before ? 'Wait' : 'Gate'}" />
    ${before ? `<bpmn:intermediateCatchEvent id="Wait"><bpmn:timerEventDefinition><bpmn:timeDuration>${before}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="Wait" targetRef="Gate" />` : ''}
    <bpmn:exclusiveGateway id="Gate" default="Normal" />
    <bpmn:sequenceFlow id="Hit" sourceRef="Gate" targetRef="EndHit">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${xmlText(expression)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Normal" sourceRef="Gate" targetRef="EndNormal" />
    <bpmn:endEvent id="EndHit" />
    <bpmn:endEvent id="EndNormal" />`,
  );

/** start → external task whose input parameter is the expression → end */
const inputParameter = (key: string, expression: string): string =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:serviceTask id="Call" camunda:type="external" camunda:topic="bounds">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="value">${xmlText(expression)}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );

/** start → script task (format feel or juel) whose script is the expression → end */
const script = (key: string, format: string, expression: string): string =>
  bpmn(
    key,
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Script" />
    <bpmn:scriptTask id="Script" scriptFormat="${format}" camunda:resultVariable="result"><bpmn:script>${xmlText(expression)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Script" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );

/** Polls /health every 50 ms until stopped; resolves with the slowest answer in milliseconds. */
function watchHealth(url: string): { stop(): Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/health`);
      assert.equal(res.status, 200);
      await res.text();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return slowest;
    },
  };
}

const BILLION = 1e9;
/** the 64-term JUEL sum that makes a string of 64 times a variable's length */
const JUEL_GROWTH = `\${${Array.from({ length: 64 }, () => 's').join(' + ')}}`;

Feature('Expressions run within bounds on steps, time and memory', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton({ env: { BATON_SCRIPT_FORMATS: 'juel,feel', BATON_EXPRESSION_MAX_STEPS: '200' } });
  });
  after(() => t.close());

  const attacks: { key: string; xml: string; variables: Record<string, unknown>; element: string; bound: RegExp }[] = [
    { key: 'feelFor', xml: gateway('feelFor', '=count(for i in 1..n return i) > 0'), variables: { n: BILLION }, element: 'Gate', bound: /BATON_EXPRESSION_TIMEOUT_MS|BATON_EXPRESSION_MAX_MEMORY_MB/ },
    { key: 'feelSome', xml: gateway('feelSome', '=some x in 1..n satisfies x < 0'), variables: { n: BILLION }, element: 'Gate', bound: /BATON_EXPRESSION_TIMEOUT_MS|BATON_EXPRESSION_MAX_MEMORY_MB/ },
    { key: 'feelInput', xml: inputParameter('feelInput', '=for i in 1..n return i'), variables: { n: BILLION }, element: 'Call', bound: /BATON_EXPRESSION_TIMEOUT_MS|BATON_EXPRESSION_MAX_MEMORY_MB/ },
    { key: 'feelScript', xml: script('feelScript', 'feel', 'string join(for i in 1..n return "x")'), variables: { n: BILLION }, element: 'Script', bound: /BATON_EXPRESSION_TIMEOUT_MS|BATON_EXPRESSION_MAX_MEMORY_MB|BATON_EXPRESSION_MAX_RESULT_CHARS/ },
    { key: 'juelGrowth', xml: gateway('juelGrowth', `${JUEL_GROWTH.slice(0, -1)} == ""}`), variables: { s: 'x'.repeat(100_000) }, element: 'Gate', bound: /BATON_EXPRESSION_MAX_RESULT_CHARS/ },
    { key: 'juelSteps', xml: script('juelSteps', 'juel', Array.from({ length: 300 }, () => 'n').join(' + ')), variables: { n: BILLION }, element: 'Script', bound: /BATON_EXPRESSION_MAX_STEPS/ },
  ];

  Scenario('a start form asks for a billion iterations, or strings of many megabytes', () => {
    const started: Record<string, { id: string; status: string }> = {};
    let slowest = 0;
    Given('processes whose conditions, input parameters and scripts iterate over n or grow a text', async () => {
      for (const attack of attacks) await deploy(t.as(DEMO), attack.xml, `${attack.key}.bpmn`);
    });
    When('a user starts each with n = 1e9 (or a long text), all at once, while /health is watched', async () => {
      const health = watchHealth(t.url);
      const replies = await Promise.all(attacks.map((attack) => t.as(DEMO).post(`/api/processes/${attack.key}/instances`).send({ variables: attack.variables })));
      for (const [i, res] of replies.entries()) {
        assert.equal(res.status, 201, res.text);
        started[(attacks[i] as { key: string }).key] = res.body;
      }
      // and a while after, while the evaluator recovers
      await t.as(DEMO).post('/api/processes/feelSome/instances').send({ variables: { n: 3 } }).expect(201);
      slowest = await health.stop();
    });
    Then('each instance is running with an incident at the element, naming the bound it passed', async () => {
      for (const attack of attacks) {
        const instance = started[attack.key] as { id: string; status: string };
        assert.equal(instance.status, 'running', attack.key);
        const { body } = await t.as(DEMO).get(`/api/incidents?instanceId=${instance.id}`).expect(200);
        assert.equal(body.items.length, 1, `${attack.key}: ${JSON.stringify(body)}`);
        assert.equal(body.items[0].elementId, attack.element, attack.key);
        assert.match(body.items[0].message, attack.bound, attack.key);
      }
    });
    And('/health answered within a second throughout, and the same process runs with a small n', async () => {
      assert.ok(slowest < 1000, `the slowest /health took ${Math.round(slowest)} ms`);
      const { body } = await t.as(DEMO).get('/api/instances?processKey=feelSome&status=completed').expect(200);
      assert.equal(body.items.length, 1);
    });
    When('an operator retries the incident of the FEEL condition with n = 3', async () => {
      const { body } = await t.as(DEMO).get(`/api/incidents?instanceId=${started.feelFor?.id}`).expect(200);
      await t.as(DEMO).post(`/api/incidents/${body.items[0].id}/retry`).send({ variables: { n: 3 } }).expect(204);
    });
    Then('the step is taken again and the instance completes along the condition', async () => {
      const { body } = await t.as(DEMO).get(`/api/instances/${started.feelFor?.id}`).expect(200);
      assert.equal(body.status, 'completed');
      assert.deepEqual(body.incidents, []);
      const history = (await t.as(DEMO).get(`/api/instances/${started.feelFor?.id}/history`).expect(200)).body as { type: string; elementId?: string }[];
      assert.ok(history.some((e) => e.type === 'element.completed' && e.elementId === 'EndHit'));
    });
  });

  Scenario('a model holds a huge literal range', () => {
    const expression = '=count(for i in 1..1000000000000 return i) > 0';
    let took = 0;
    let id = '';
    When('it is deployed', async () => {
      const started = performance.now();
      await deploy(t.as(DEMO), gateway('literalRange', expression), 'literal-range.bpmn');
      took = performance.now() - started;
    });
    Then('the deployment only parsed it: it is accepted in well under a second', () => {
      assert.ok(took < 1000, `the deployment took ${Math.round(took)} ms`);
    });
    When('an instance reaches it', async () => {
      id = (await t.as(DEMO).post('/api/processes/literalRange/instances').send({ variables: {} }).expect(201)).body.id;
    });
    Then('the instance has an incident naming the bound', async () => {
      const { body } = await t.as(DEMO).get(`/api/incidents?instanceId=${id}`).expect(200);
      assert.match(body.items[0]?.message ?? '', /1\.\.1000000000000.*exceeded the time limit of \d+ ms or the memory limit/);
    });
  });

  Scenario('a user task and an external task whose completion leads to the hostile expression', () => {
    /** start → the task → gateway on n → end */
    const afterTask = (key: string, task: string): string =>
      gateway(key, '=some x in 1..n satisfies x < 0').replace('<bpmn:startEvent id="Start" />', `<bpmn:startEvent id="Start" />${task}`).replace('sourceRef="Start" targetRef="Gate"', 'sourceRef="Start" targetRef="Work" /><bpmn:sequenceFlow id="f9" sourceRef="Work" targetRef="Gate"');
    const ids: Record<string, string> = {};
    let taskId = '';
    let jobId = '';
    Given('a process with a user task and one with an external task before the condition', async () => {
      await deploy(t.as(DEMO), afterTask('heldTask', '<bpmn:userTask id="Work" camunda:assignee="demo" />'), 'held-task.bpmn');
      await deploy(t.as(DEMO), afterTask('heldJob', '<bpmn:serviceTask id="Work" camunda:type="external" camunda:topic="held" />'), 'held-job.bpmn');
      ids.task = (await t.as(DEMO).post('/api/processes/heldTask/instances').send({ variables: {} }).expect(201)).body.id;
      ids.job = (await t.as(DEMO).post('/api/processes/heldJob/instances').send({ variables: {} }).expect(201)).body.id;
      taskId = (await t.as(DEMO).get(`/api/instances/${ids.task}`).expect(200)).body.tasks[0].id;
      const locked = await t.as(DEMO).post('/api/external-tasks/fetch-and-lock').send({ workerId: 'w1', maxTasks: 1, topics: [{ topicName: 'held', lockDuration: 60_000 }] }).expect(200);
      jobId = locked.body[0].id;
    });
    When('the task is completed and the external task finished, each with n = 1e9', async () => {
      await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: { n: BILLION } }).expect(204);
      await t.as(DEMO).post(`/api/external-tasks/${jobId}/complete`).send({ workerId: 'w1', variables: { n: BILLION } }).expect(204);
    });
    Then('each instance has one incident, and the task and the external task are no longer offered to anyone', async () => {
      for (const id of [ids.task, ids.job]) {
        const { body } = await t.as(DEMO).get(`/api/incidents?instanceId=${id}`).expect(200);
        assert.equal(body.items.length, 1, JSON.stringify(body));
        assert.match(body.items[0].message, /BATON_EXPRESSION_TIMEOUT_MS/);
      }
      const tasks = (await t.as(DEMO).get('/api/tasks').expect(200)).body;
      assert.ok(!JSON.stringify(tasks).includes(taskId), 'the completed task is not listed');
      assert.equal((await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: { n: 1 } })).status, 409, "the task is no longer open");
      t.advance(120_000);
      const again = await t.as(DEMO).post('/api/external-tasks/fetch-and-lock').send({ workerId: 'w2', maxTasks: 5, topics: [{ topicName: 'held', lockDuration: 60_000 }] }).expect(200);
      assert.deepEqual(again.body, []);
    });
    When('an operator retries each incident with n = 3', async () => {
      for (const id of [ids.task, ids.job]) {
        const { body } = await t.as(DEMO).get(`/api/incidents?instanceId=${id}`).expect(200);
        await t.as(DEMO).post(`/api/incidents/${body.items[0].id}/retry`).send({ variables: { n: 3 } }).expect(204);
      }
    });
    Then('each instance completes, and its history records the completion once', async () => {
      for (const [id, type] of [[ids.task, 'task.completed'], [ids.job, 'job.completed']] as const) {
        const { body } = await t.as(DEMO).get(`/api/instances/${id}`).expect(200);
        assert.equal(body.status, 'completed', JSON.stringify(body.incidents));
        const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body as { type: string; elementId?: string }[];
        assert.equal(history.filter((e) => e.type === type).length, 1, JSON.stringify(history.map((e) => e.type)));
        assert.equal(history.filter((e) => e.type === 'task.created' || e.type === 'job.created').length, 1);
      }
    });
  });

  Scenario('a model with a FEEL syntax error is refused at deployment', () => {
    Then('the answer is a 400 naming the element and the syntax error', async () => {
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(gateway('broken', '=for i in 1.. return')), 'broken.bpmn');
      assert.equal(res.status, 400, res.text);
      assert.equal(res.type, 'application/problem+json');
      assert.match(JSON.stringify(res.body), /syntax error/);
    });
  });
});

Feature('A timer before a hostile expression does not make a crash loop', () => {
  let dataDir = '';
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });
  const basic = `Basic ${Buffer.from('demo:demo').toString('base64')}`;
  const incidents = async (id: string): Promise<{ id: string; message: string }[]> => (await server?.as(DEMO).get(`/api/incidents?instanceId=${id}`))?.body.items;

  Scenario('a PT1S timer leads to =some x in 1..n satisfies x < 0 with n = 1e9, on a real server process', () => {
    let id = '';
    Given('a server process with the process deployed and an instance started with n = 1e9', async () => {
      dataDir = makeDataDir();
      server = await spawnServer({ dataDir, demo: 'users', env: { BATON_CONNECTORS: 'none' } });
      const form = new FormData();
      form.append('file', new Blob([gateway('timerFirst', '=some x in 1..n satisfies x < 0', 'PT1S')]), 'timer-first.bpmn');
      const res = await fetch(`${server.url}/api/deployments`, { method: 'POST', headers: { authorization: basic }, body: form });
      assert.equal(res.status, 201, await res.text());
      const started = await server.as(DEMO).post('/api/processes/timerFirst/instances', { variables: { n: BILLION } });
      assert.equal(started.status, 201);
      id = started.body.id;
    });
    When('the timer fires', async () => {
      await eventually('the incident is raised', async () => assert.equal((await incidents(id)).length, 1));
    });
    Then('the server is up, and the incident names the bound', async () => {
      assert.ok(server?.running());
      assert.match((await incidents(id))[0]?.message ?? '', /exceeded the time limit/);
    });
    When('the server is killed and started again on the same data', async () => {
      await server?.kill9();
      server = await spawnServer({ dataDir, demo: 'users', env: { BATON_CONNECTORS: 'none' } });
    });
    Then('it stays up for many scheduler ticks, /health answering within a second, and the timer does not fire again', async () => {
      const health = watchHealth((server as ServerProcess).url);
      // an observation window, not a wait for a timer: the scheduler looks every 200 ms, ten looks
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.ok((await health.stop()) < 1000);
      assert.ok(server?.running());
      const history = (await server?.as(DEMO).get(`/api/instances/${id}/history`))?.body as { type: string }[];
      assert.equal(history.filter((e) => e.type === 'incident.created').length, 1, JSON.stringify(history.map((e) => e.type)));
      assert.equal(history.filter((e) => e.type === 'timer.fired').length, 0, 'the failed step was not saved');
      assert.equal((await incidents(id)).length, 1);
    });
    When('an operator retries the incident with n = 5', async () => {
      const [incident] = await incidents(id);
      const res = await server?.as(DEMO).post(`/api/incidents/${incident?.id}/retry`, { variables: { n: 5 } });
      assert.equal(res?.status, 204, JSON.stringify(res?.body));
    });
    Then("the timer's step is taken again and the instance completes along the default flow", async () => {
      const view = await server?.as(DEMO).get(`/api/instances/${id}`);
      assert.equal(view?.body.status, 'completed', JSON.stringify(view?.body));
      const history = (await server?.as(DEMO).get(`/api/instances/${id}/history`))?.body as { type: string; elementId?: string }[];
      assert.deepEqual(history.filter((e) => e.type === 'element.completed' && e.elementId?.startsWith('End')).map((e) => e.elementId), ['EndNormal']);
      assert.equal(history.filter((e) => e.type === 'incident.retried').length, 1);
    });
  });
});
