/**
 * An outside system that never answers: its calls time out, it holds only a bounded share of
 * the HTTP connector, other instances and other connectors go on, and /health names it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { eventually } from '../helpers/server-process.ts';

const TIMEOUT_MS = 3_000;

/** `/hang` never answers (and counts the calls), `/ok` answers at once. */
async function startSystem(): Promise<{ url: string; hanging: number; close(): Promise<void> }> {
  const state = { url: '', hanging: 0, close: async (): Promise<void> => undefined };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      state.hanging++;
      return; // never answers
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** An HTTP call to ${target}, then an SMS (logged: no Twilio configured). */
const CALL_THEN_SMS = bpmn(
  'call',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:serviceTask id="Call" name="Call the system" camunda:type="http">
      <bpmn:extensionElements>
        <camunda:inputOutput><camunda:inputParameter name="url">\${target}</camunda:inputParameter></camunda:inputOutput>
        <camunda:failedJobRetryTimeCycle>R2/PT1H</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="Tell" />
    <bpmn:serviceTask id="Tell" name="Tell the admin" camunda:type="sms">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="to">+41790000001</camunda:inputParameter>
          <camunda:inputParameter name="body">done</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Tell" targetRef="End" />
    <bpmn:endEvent id="End" />`,
);

Feature('A hanging outside system blocks no one else', () => {
  let t: TestBaton;
  let system: Awaited<ReturnType<typeof startSystem>>;
  let other: Awaited<ReturnType<typeof startSystem>>;
  before(async () => {
    system = await startSystem();
    other = await startSystem();
    t = await startBaton({ env: { BATON_CONNECTORS: 'sms,http', BATON_HTTP_TIMEOUT_MS: String(TIMEOUT_MS), BATON_TIMER_INTERVAL_MS: '200' } });
    await deploy(t.as(DEMO), CALL_THEN_SMS, 'call.bpmn');
  });
  after(async () => {
    await t.close();
    await system.close();
    await other.close();
  });

  const start = async (target: string): Promise<string> =>
    (await t.as(DEMO).post('/api/processes/call/instances').send({ variables: { target } }).expect(201)).body.id;
  const status = async (id: string): Promise<string> => (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body.status;

  Scenario('twelve instances call a system that never answers, ten call another one that does', () => {
    const stuck: string[] = [];
    const healthy: string[] = [];
    let started: number;
    When('they are started, the hanging ones first', async () => {
      started = Date.now();
      for (let i = 0; i < 12; i++) stuck.push(await start(`${system.url}/hang/${i}`));
      for (let i = 0; i < 10; i++) healthy.push(await start(`${other.url}/ok/${i}`));
    });
    Then('the ten complete, HTTP call and SMS, long before the hanging calls time out', async () => {
      await eventually('the healthy instances completed', async () => {
        for (const id of healthy) assert.equal(await status(id), 'completed');
      }, { timeoutMs: 20_000, everyMs: 100 });
      assert.ok(Date.now() - started < TIMEOUT_MS + 2_000, `took ${Date.now() - started} ms`);
    });
    Then('at most 8 calls waited on the hanging host at once; the others were refused and wait for a retry', async () => {
      assert.ok(system.hanging <= 8, `${system.hanging} calls reached the hanging host`);
      for (const id of stuck) assert.equal(await status(id), 'running');
    });
    Then('/health says the HTTP connector is degraded, and why', async () => {
      const health = await eventually('health reports it', async () => {
        const res = await t.anonymous().get('/health').expect(200);
        assert.equal(res.body.status, 'degraded');
        return res.body;
      }, { timeoutMs: TIMEOUT_MS + 5_000 });
      assert.deepEqual(Object.keys(health.degraded), ['http']);
      assert.match(health.degraded.http, /a call has waited \d+ s for an answer|the last call failed/);
      assert.deepEqual(health.connectors, { sms: 'log', email: 'off', http: 'on' });
    });
    Then('the hanging calls time out and are retried later; their history says so', async () => {
      await eventually('the calls timed out', async () => {
        const history = (await t.as(DEMO).get(`/api/instances/${stuck[0]}/history`).expect(200)).body as { type: string; data?: { message?: string; retryAt?: string } }[];
        const failed = history.find((event) => event.type === 'job.failed');
        assert.ok(failed, 'a job.failed event');
        assert.match(failed.data?.message ?? '', /did not answer within 3000 ms|already waiting for an answer/);
        assert.ok(failed.data?.retryAt, 'a retry is planned');
      }, { timeoutMs: TIMEOUT_MS + 5_000 });
      const health = (await t.anonymous().get('/health').expect(200)).body;
      assert.equal(health.status, 'degraded');
      assert.match(health.degraded.http, /the last call failed|a call has waited/);
    });
  });
});
