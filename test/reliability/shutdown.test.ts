/**
 * SIGTERM: Baton stops taking work, answers long polls at once, lets a connector call in hand
 * finish (or gives its job back when it takes too long), closes the store and exits 0; a
 * restart on the same data loses nothing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bpmn } from '../helpers/baton.ts';
import { DEMO, WORKER, eventually, makeDataDir, removeDataDir, spawnServer, type ServerProcess } from '../helpers/server-process.ts';

/** `/slow` answers after 1.5 s; `/stuck` never answers until `release` is set. Records each call's idempotency key. */
async function startSystem() {
  const state = { url: '', release: false, calls: [] as { path: string; key: string }[], close: async () => undefined as void };
  const server: Server = createServer((req, res) => {
    state.calls.push({ path: req.url ?? '', key: String(req.headers['idempotency-key']) });
    const answer = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    if (req.url === '/slow') setTimeout(answer, 1_500);
    else if (state.release) answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return state;
}

const PROCESSES = bpmn(
  'work',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Work" />
    <bpmn:serviceTask id="Work" camunda:type="external" camunda:topic="shutdown.work" />
    <bpmn:sequenceFlow id="f2" sourceRef="Work" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
).replace(
  '</bpmn:definitions>',
  `<bpmn:process id="call" isExecutable="true">
    <bpmn:startEvent id="CallStart" />
    <bpmn:sequenceFlow id="c1" sourceRef="CallStart" targetRef="Call" />
    <bpmn:serviceTask id="Call" camunda:type="http">
      <bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="url">\${target}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="c2" sourceRef="Call" targetRef="Called" />
    <bpmn:endEvent id="Called" />
  </bpmn:process>
</bpmn:definitions>`,
);

Feature('Graceful shutdown on SIGTERM loses nothing', () => {
  let server: ServerProcess | undefined;
  let dataDir: string;
  let system: Awaited<ReturnType<typeof startSystem>>;
  before(async () => {
    dataDir = makeDataDir();
    system = await startSystem();
  });
  after(async () => {
    await server?.stop();
    await system.close();
    removeDataDir(dataDir);
  });

  Scenario('a worker long-polls, another holds a job, two connector calls are under way', () => {
    const ids: Record<string, string> = {};
    let held: { id: string };
    let longPoll: Promise<{ status: number; body: unknown; ms: number }>;
    let exit: { code: number | null; signal: string | null };
    let stopMs: number;

    Given('Baton runs with the processes deployed', async () => {
      server = await spawnServer({ dataDir, demo: 'users' });
      const res = await fetch(`${server.url}/api/deployments`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}`, 'content-type': 'application/xml' },
        body: PROCESSES,
      });
      assert.equal(res.status, 201, await res.text());
    });
    And('worker-1 holds the job of one instance, worker-2 long-polls for 60 s, and calls to /slow and /stuck are under way', async () => {
      const admin = server!.as(DEMO);
      ids.work = (await admin.post('/api/processes/work/instances', {})).body.id;
      ids.slow = (await admin.post('/api/processes/call/instances', { variables: { target: `${system.url}/slow` } })).body.id;
      ids.stuck = (await admin.post('/api/processes/call/instances', { variables: { target: `${system.url}/stuck` } })).body.id;
      const fetched = await server!.as(WORKER).post('/api/external-tasks/fetch-and-lock', { workerId: 'worker-1', maxTasks: 1, topics: [{ topicName: 'shutdown.work', lockDuration: 600_000 }] });
      assert.equal(fetched.body.length, 1);
      held = fetched.body[0];
      const started = Date.now();
      longPoll = server!.as(WORKER)
        .post('/api/external-tasks/fetch-and-lock', { workerId: 'worker-2', maxTasks: 1, asyncResponseTimeout: 60_000, topics: [{ topicName: 'shutdown.idle', lockDuration: 60_000 }] })
        .then((reply) => ({ status: reply.status, body: reply.body, ms: Date.now() - started }));
      await eventually('both calls reached the system', async () => assert.equal(system.calls.length, 2));
    });
    When('Baton gets SIGTERM', async () => {
      const started = Date.now();
      exit = await server!.stop(30_000);
      stopMs = Date.now() - started;
    });
    Then('the long poll was answered at once with nothing, and Baton exited 0 within seconds', async () => {
      const poll = await longPoll;
      assert.equal(poll.status, 200);
      assert.deepEqual(poll.body, []);
      assert.ok(poll.ms < 5_000, `the long poll took ${poll.ms} ms`);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(stopMs < 15_000, `stopping took ${stopMs} ms`);
      const said = server!.logs().map((line) => line.msg);
      assert.ok(said.includes('shutting down: taking no new work, finishing what is in hand') && said.includes('stopped'), said.slice(-5).join(' | '));
    });
    When('Baton starts again on the same data and /stuck now answers', async () => {
      system.release = true;
      server = await spawnServer({ dataDir, demo: 'users' });
    });
    Then('the call to /slow finished before the stop: it completed and was not made again', async () => {
      const instance = (await server!.as(DEMO).get(`/api/instances/${ids.slow}`)).body;
      assert.equal(instance.status, 'completed');
      assert.equal(system.calls.filter((call) => call.path === '/slow').length, 1);
    });
    Then('the call to /stuck was given back: it is made again at once, with the same idempotency key', async () => {
      await eventually('the stuck call completed', async () => {
        assert.equal((await server!.as(DEMO).get(`/api/instances/${ids.stuck}`)).body.status, 'completed');
      }, { timeoutMs: 20_000 });
      const stuck = system.calls.filter((call) => call.path === '/stuck');
      assert.equal(stuck.length, 2);
      assert.equal(stuck[0]?.key, stuck[1]?.key);
    });
    Then('worker-1 completes the job it held across the restart', async () => {
      const res = await server!.as(WORKER).post(`/api/external-tasks/${held.id}/complete`, { workerId: 'worker-1' });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      assert.equal((await server!.as(DEMO).get(`/api/instances/${ids.work}`)).body.status, 'completed');
    });
    Then('every history is numbered 1..n without gaps and has one end', async () => {
      for (const id of Object.values(ids)) {
        const events = (await server!.as(DEMO).get(`/api/instances/${id}/history`)).body as { seq: number; type: string }[];
        assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
        assert.equal(events.filter((e) => e.type === 'instance.completed').length, 1);
      }
    });
  });
});
