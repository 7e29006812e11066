/**
 * Resource limits (issue 15, finding 3): one user could make Baton unresponsive with a 4 MB start
 * form field, 200,000 variables, hundreds of live-update streams on a large instance, or lists
 * that carried every instance's variables. Each attack is replayed here through the public
 * interface: the request is refused with a problem+json naming the variable and the limit (and
 * nothing is written), or the load is served cheaply, while /health answers within a second.
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

const KIB = 1024;

/** Asserts a problem+json answer with the status and returns it. */
function problem(res: Response, status: number): { detail: string; problems?: { path?: string; message: string }[] } {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.type, 'application/problem+json');
  return res.body;
}

/** Runs `work` while asking /health every 50 ms; returns its result and the slowest /health answer in ms. */
async function underHealthWatch<T>(url: string, work: () => Promise<T>): Promise<{ result: T; slowestMs: number }> {
  let slowestMs = 0;
  let done = false;
  const probe = (async () => {
    while (!done) {
      const started = performance.now();
      const res = await fetch(`${url}/health`);
      await res.text();
      assert.equal(res.status, 200);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    return { result: await work(), slowestMs };
  } finally {
    done = true;
    await probe;
  }
}

/** A user task waits; no start form, so any variables with valid names are taken. */
const WAITING = bpmn(
  'waiting',
  `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review" />
   <bpmn:userTask id="Review" name="Review" camunda:candidateGroups="admins" />
   <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="End" /><bpmn:endEvent id="End" />`,
);

/** A worker's result mapped twice into the instance: the engine, not the request, doubles its size. */
const COPYING = bpmn(
  'copying',
  `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Copy" />
   <bpmn:serviceTask id="Copy" name="Copy" camunda:type="external" camunda:topic="copy">
     <bpmn:extensionElements><camunda:inputOutput>
       <camunda:outputParameter name="first">\${part}</camunda:outputParameter>
       <camunda:outputParameter name="second">\${part}</camunda:outputParameter>
     </camunda:inputOutput></bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:sequenceFlow id="f2" sourceRef="Copy" targetRef="Review" />
   <bpmn:userTask id="Review" name="Review" camunda:candidateGroups="admins" />
   <bpmn:sequenceFlow id="f3" sourceRef="Review" targetRef="End" /><bpmn:endEvent id="End" />`,
);

const count = async (t: TestBaton, processKey: string): Promise<number> =>
  (await t.as(DEMO).get(`/api/instances?processKey=${processKey}&limit=1`).expect(200)).body.total;

const many = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, i]));

Feature('Variables are bounded where they come in and where the engine makes them', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), readProcess('processes/salary/salary.bpmn'), 'salary.bpmn');
    await deploy(t.as(DEMO), WAITING);
  });
  after(() => t?.close());

  Scenario('a 4 MB employeeId on the salary start form', () => {
    Then('is refused with 400 naming the field and its default maximum length, and no instance is created', async () => {
      const before = await count(t, 'salary');
      const res = await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E'.repeat(4_000_000) } });
      const body = problem(res, 400);
      assert.equal(body.problems?.[0]?.path, 'employeeId');
      assert.match(body.problems?.[0]?.message ?? '', /at most 4000 characters/);
      assert.equal(await count(t, 'salary'), before);
    });
    And('an employeeId of 4,000 characters is taken', async () => {
      await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E'.repeat(4_000) } }).expect(201);
    });
  });

  Scenario('one start with 200,000 variables, five of them at once', () => {
    Then('each is refused unparsed with 400 for its 200,000 properties, nothing is created, and /health answers within a second throughout', async () => {
      const before = await count(t, 'waiting');
      // serialized once, before the watch: the test's own JSON.stringify would hold the shared event loop
      const body = JSON.stringify({ variables: many(200_000) });
      const { result, slowestMs } = await underHealthWatch(t.url, () =>
        Promise.all(Array.from({ length: 5 }, () => t.as(DEMO).post('/api/processes/waiting/instances').type('json').send(body))),
      );
      for (const res of result) {
        const refused = problem(res, 400);
        assert.match(refused.detail, /more than 100000 properties/);
      }
      assert.ok(slowestMs < 1_000, `/health took ${Math.round(slowestMs)} ms`);
      assert.equal(await count(t, 'waiting'), before);
    });
  });

  Scenario('2,000 variables, fewer than a body may hold properties but more than an instance may hold variables', () => {
    Then('is refused with 400 naming the limit of 1,000', async () => {
      const refused = problem(await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: many(2_000) }), 400);
      assert.equal(refused.problems?.[0]?.path, 'variables');
      assert.match(refused.detail, /2000 variables are more than the 1000 an instance may hold/);
    });
  });

  Scenario('a variable or the variables together beyond their size', () => {
    Then('a 300 KiB variable is 413 naming it and the 256 KiB limit; 20 variables of 250 KB are 413 for the 4 MiB total', async () => {
      const large = problem(await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: { blob: 'x'.repeat(300 * KIB) } }), 413);
      assert.equal(large.problems?.[0]?.path, 'blob');
      assert.match(large.detail, /variable blob holds \d+ bytes, more than the 256 KiB a variable may hold/);
      const parts = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`part${i}`, 'y'.repeat(250_000)]));
      const total = problem(await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: parts }), 413);
      assert.equal(total.problems?.[0]?.path, 'variables');
      assert.match(total.detail, /more than the 4096 KiB an instance may hold/);
    });
    And('a value nested 40 levels deep is 400 naming it', async () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = [deep];
      const res = problem(await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: { deep } }), 400);
      assert.equal(res.problems?.[0]?.path, 'deep');
    });
  });

  Scenario('every other way variables come in keeps the bounds, and nothing is written when it refuses', () => {
    let instanceId: string;
    let taskId: string;
    Given('an instance holding 4.16 MB of variables, just under its 4 MiB, waiting in a user task', async () => {
      const parts = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`part${i}`, 'y'.repeat(260_000)]));
      const res = await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: parts }).expect(201);
      instanceId = res.body.id;
      taskId = res.body.tasks[0].id;
    });
    Then('completing its task, Baton API or Camunda API, with 100 KB more is 413 for the total, and the task still waits', async () => {
      const history = (await t.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200)).body.length;
      problem(await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: { more: 'z'.repeat(100_000) } }), 413);
      const camunda = await t.as(DEMO).post(`/engine-rest/task/${taskId}/complete`).send({ variables: { more: { value: 'z'.repeat(100_000), type: 'String' } } });
      assert.equal(camunda.status, 413, camunda.text.slice(0, 200));
      const after = (await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200)).body;
      assert.equal(after.tasks[0].id, taskId);
      assert.equal('more' in after.variables, false);
      assert.equal((await t.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200)).body.length, history);
    });
    And('a Camunda start with 2,000 typed variables is refused, and so is a message carrying them', async () => {
      const typed = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`v${i}`, { value: i, type: 'Integer' }]));
      const start = await t.as(DEMO).post('/engine-rest/process-definition/key/waiting/start').send({ variables: typed });
      assert.equal(start.status, 400, start.text.slice(0, 200));
      assert.match(start.body.message, /more than the 1000 an instance may hold/);
      problem(await t.as(DEMO).post('/api/messages').send({ name: 'nobody-waits', variables: many(2_000) }), 400);
    });
  });
});

Feature('What the engine makes is bounded too', () => {
  let t: TestBaton;
  before(async () => {
    // an instance may hold 300 KiB: a worker's 200 KB result fits, the engine's two copies of it do not
    t = await startBaton({ env: { BATON_VARIABLES_MAX_BYTES: String(300 * KIB) } });
    await deploy(t.as(DEMO), COPYING);
  });
  after(() => t?.close());

  Scenario('output parameters that would grow the instance past its bound', () => {
    let instanceId: string;
    When('a worker completes the task with a 200 KB result that the model maps into two variables', async () => {
      instanceId = (await t.as(DEMO).post('/api/processes/copying/instances').send({}).expect(201)).body.id;
      const [task] = await fetchTasks(t.as(WORKER), 'copy');
      assert.ok(task);
      await t.as(WORKER).post(`/api/external-tasks/${task.id}/complete`).send({ workerId: 'test-worker', variables: { part: 'p'.repeat(200_000) } });
    });
    Then('the instance gets an incident naming the bound, holds neither copy, and has not moved on', async () => {
      const instance = (await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200)).body;
      assert.equal(instance.status, 'running');
      assert.deepEqual(Object.keys(instance.variables), []);
      assert.equal(instance.tasks.length, 0, 'the review was not reached');
      assert.equal(instance.incidents.length, 1);
      assert.match(instance.incidents[0].message, /more than the 300 KiB an instance may hold/);
    });
  });
});

/** Opens an event stream as a user; resolves once the answer's head arrived. */
async function openStream(url: string, instanceId: string, who: { user: string; password: string }, signal: AbortSignal): Promise<globalThis.Response> {
  return fetch(`${url}/api/web/instances/${instanceId}/events`, {
    headers: { authorization: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}` },
    signal,
  });
}

/** Reads a stream until an event of the type arrives (comments and other events skipped). */
async function nextEvent(body: ReadableStream<Uint8Array>, type: string): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const match = new RegExp(`event: ${type}\\ndata: (.*)\\n\\n`).exec(buffer);
      if (match) return match[1] as string;
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended before a ${type} event`);
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

Feature('Live-update streams: one read serves every stream of an instance, and streams are capped', () => {
  let t: TestBaton;
  const abort = new AbortController();
  before(async () => {
    t = await startBaton({ env: { BATON_EVENT_STREAMS_PER_USER: '200', BATON_EVENT_STREAMS_MAX: '210' } });
    await deploy(t.as(DEMO), WAITING);
  });
  after(async () => {
    abort.abort();
    await t?.close();
  });

  Scenario('200 streams on an instance with 3.9 MB of variables', () => {
    let instanceId: string;
    let taskId: string;
    const streams: globalThis.Response[] = [];
    let rssBefore = 0;
    Given('an instance with large but allowed variables', async () => {
      const parts = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`part${i}`, 'y'.repeat(260_000)]));
      const res = await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: parts }).expect(201);
      instanceId = res.body.id;
      taskId = res.body.tasks[0].id;
      rssBefore = process.memoryUsage().rss;
    });
    When('one user opens 200 streams on it', async () => {
      for (let i = 0; i < 200; i++) streams.push(await openStream(t.url, instanceId, DEMO, abort.signal));
      assert.deepEqual([...new Set(streams.map((res) => res.status))], [200]);
    });
    Then('/health answers within a second through several poll rounds, and memory stays bounded', async () => {
      const { slowestMs } = await underHealthWatch(t.url, () => new Promise((resolve) => setTimeout(resolve, 4_500)));
      assert.ok(slowestMs < 1_000, `/health took ${Math.round(slowestMs)} ms`);
      const grown = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
      assert.ok(grown < 150, `RSS grew by ${Math.round(grown)} MB`);
    });
    And("a 201st stream of the same user is 429, and the node's cap refuses another user's 11th", async () => {
      const over = await openStream(t.url, instanceId, DEMO, abort.signal);
      assert.equal(over.status, 429);
      assert.equal(over.headers.get('content-type'), 'application/problem+json');
      assert.match(((await over.json()) as { detail: string }).detail, /BATON_EVENT_STREAMS_PER_USER/);
      const own = (await t.as(MARY).post('/api/processes/waiting/instances').send({}).expect(201)).body.id;
      for (let i = 0; i < 10; i++) assert.equal((await openStream(t.url, own, MARY, abort.signal)).status, 200);
      const full = await openStream(t.url, own, MARY, abort.signal);
      assert.equal(full.status, 429);
      assert.match(((await full.json()) as { detail: string }).detail, /BATON_EVENT_STREAMS_MAX/);
    });
    When('the task is completed', async () => {
      await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({}).expect(204);
    });
    Then('every one of the 200 streams gets the change', async () => {
      const revisions = await Promise.all(streams.map((res) => nextEvent(res.body as ReadableStream<Uint8Array>, 'change')));
      assert.equal(revisions.length, 200);
      assert.ok(revisions.every((data) => JSON.parse(data).revision >= 2));
    });
  });
});

Feature('The default cap on streams per user', () => {
  let t: TestBaton;
  const abort = new AbortController();
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), WAITING);
  });
  after(async () => {
    abort.abort();
    await t?.close();
  });

  Scenario('one user asks for 200 streams', () => {
    Then('20 are served and the other 180 are 429 problem+json', async () => {
      const instanceId = (await t.as(DEMO).post('/api/processes/waiting/instances').send({}).expect(201)).body.id;
      const answers = await Promise.all(Array.from({ length: 200 }, () => openStream(t.url, instanceId, DEMO, abort.signal)));
      assert.equal(answers.filter((res) => res.status === 200).length, 20);
      const refused = answers.filter((res) => res.status === 429);
      assert.equal(refused.length, 180);
      assert.ok(refused.every((res) => res.headers.get('content-type') === 'application/problem+json' && res.headers.get('retry-after')));
    });
  });
});

Feature('Lists are pages of instances without their variables', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), WAITING);
    for (let i = 0; i < 60; i++) {
      await t.as(DEMO).post('/api/processes/waiting/instances').send({ variables: { payload: 'q'.repeat(200_000) } }).expect(201);
    }
  });
  after(() => t?.close());

  Scenario('GET /api/instances with 60 instances of 200 KB each', () => {
    Then('answers a page of 50 without variables, in a few kilobytes; more than 500 a page is 400', async () => {
      const res = await t.as(DEMO).get('/api/instances').expect(200);
      assert.equal(res.body.total, 60);
      assert.equal(res.body.items.length, 50);
      assert.ok(res.body.items.every((item: object) => !('variables' in item)));
      assert.ok(res.text.length < 100 * KIB, `${res.text.length} bytes`);
      problem(await t.as(DEMO).get('/api/instances?limit=501'), 400);
    });
    And('the web list and the Camunda lists are just as small; maxResults past 1,000 is refused', async () => {
      for (const path of ['/api/web/instances', '/engine-rest/process-instance', '/engine-rest/history/process-instance']) {
        const res = await t.as(DEMO).get(path).expect(200);
        assert.ok(res.text.length < 100 * KIB, `${path}: ${res.text.length} bytes`);
        assert.ok(!res.text.includes('qqqq'), `${path} carries variables`);
      }
      const over = await t.as(DEMO).get('/engine-rest/process-instance?maxResults=1001');
      assert.equal(over.status, 400);
      assert.match(over.body.message, /Max results limit of 1000 exceeded/);
    });
    And('one instance still answers its variables', async () => {
      const [first] = (await t.as(DEMO).get('/api/instances?limit=1').expect(200)).body.items;
      const one = await t.as(DEMO).get(`/api/instances/${first.id}`).expect(200);
      assert.equal(one.body.variables.payload.length, 200_000);
    });
  });
});
