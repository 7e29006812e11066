import assert from 'node:assert/strict';
import supertest from 'supertest';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';

/** Reads server-sent events from a response body, event by event. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async (timeoutMs = 10_000): Promise<{ event: string; data: string }> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const field = (name: string): string => block.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
        return { event: field('event'), data: field('data') };
      }
      const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in time')), Math.max(1, deadline - Date.now())))]);
      if (chunk.done) throw new Error('the stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
}

async function sessionCookie(t: TestBaton, user: string, password: string): Promise<string> {
  const res = await supertest(t.url).post('/api/session').send({ user, password }).expect(200);
  return String(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).split(';')[0] ?? '';
}

Feature('Live updates of the instance view (server-sent events)', () => {
  let a: TestBaton;
  let b: TestBaton;
  let instanceId: string;
  before(async () => {
    a = await startBaton();
    // a second node on the same store, as with several nodes on one database
    b = await startBaton({ env: { BATON_DATA_DIR: a.dataDir } });
    await deploy(a.as(DEMO), bpmn('live', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="W" />
      <bpmn:serviceTask id="W" camunda:type="external" camunda:topic="live.work" /><bpmn:sequenceFlow id="F2" sourceRef="W" targetRef="E" /><bpmn:endEvent id="E" />`));
    const res = await a.as(DEMO).post('/api/processes/live/instances').send({}).expect(201);
    instanceId = res.body.id;
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  Scenario('the stream needs a session that may see the instance', () => {
    Then('without a session it is 401, and for mary, who neither started it nor holds a task in it, 404', async () => {
      await supertest(a.url).get(`/api/web/instances/${instanceId}/events`).expect(401);
      const cookie = await sessionCookie(a, MARY.user, MARY.password);
      const res = await supertest(a.url).get(`/api/web/instances/${instanceId}/events`).set('cookie', cookie).expect(404);
      assert.equal(res.type, 'application/problem+json');
    });
  });

  Scenario('a change made on another node reaches the stream', () => {
    let next: ReturnType<typeof eventReader>;
    let abort: AbortController;
    after(() => abort?.abort());
    Given('demo follows the instance on node A', async () => {
      abort = new AbortController();
      const cookie = await sessionCookie(a, DEMO.user, DEMO.password);
      const res = await fetch(`${a.url}/api/web/instances/${instanceId}/events`, { headers: { cookie }, signal: abort.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      next = eventReader(res.body as ReadableStream<Uint8Array>);
      const ready = await next();
      assert.equal(ready.event, 'ready');
    });
    When('a worker completes the job through node B', async () => {
      const [job] = await fetchTasks(b.as(WORKER), 'live.work');
      await b.as(WORKER).post(`/api/external-tasks/${job?.id}/complete`).send({ workerId: 'test-worker' }).expect(204);
    });
    Then('node A sends a change with a newer revision within a few seconds', async () => {
      let change = await next();
      while (change.event !== 'change') change = await next();
      const { revision } = JSON.parse(change.data) as { revision: number };
      assert.ok(revision >= 3, `revision ${revision}`);
      const instance = await a.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'completed');
    });
  });
});
