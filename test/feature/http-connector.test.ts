import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { closedPort, operatorView } from '../helpers/connectors.ts';

const SECOND = 1000;

/** A stand-in accounting system over HTTP that can be flaky or down, and records what it was sent. */
interface Accounting {
  url: string;
  /** answer 503 to the next n calls */
  failing: number;
  requests: { method: string; path: string; idempotencyKey: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

async function startAccounting(): Promise<Accounting> {
  const state: Accounting = { url: '', failing: 0, requests: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const key = req.headers['idempotency-key'];
      state.requests.push({ method: req.method ?? '', path: req.url ?? '', idempotencyKey: typeof key === 'string' ? key : undefined, body: text ? JSON.parse(text) : undefined });
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (state.failing > 0) {
        state.failing--;
        return reply(503, { title: 'Service Unavailable', status: 503, detail: 'accounting is restarting' });
      }
      const base = /^\/employees\/([^/]+)\/salary-base$/.exec(req.url ?? '');
      if (req.method === 'GET' && base) {
        if (base[1] === 'E-100') return reply(200, { employeeId: 'E-100', salaryBase: 5200, currency: 'EUR' });
        if (base[1] === 'BAD!') return reply(400, { title: 'Bad Request', status: 400, detail: 'malformed employee id' });
        return reply(404, { title: 'Not Found', status: 404, detail: `Employee ${base[1]} is unknown` });
      }
      if (req.method === 'POST' && req.url === '/payroll') return reply(201, { payrollId: 'PR-0001' });
      return reply(404, { title: 'Not Found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

const PAYROLL = bpmn(
  'payroll',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="FetchBase" />
    <bpmn:serviceTask id="FetchBase" name="Fetch salary base" camunda:type="http">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="url">\${accountingUrl}/employees/\${employeeId}/salary-base</camunda:inputParameter>
          <camunda:inputParameter name="headers"><camunda:map><camunda:entry key="Accept">application/json</camunda:entry></camunda:map></camunda:inputParameter>
          <camunda:inputParameter name="bpmnErrors"><camunda:map><camunda:entry key="404">EMPLOYEE_UNKNOWN</camunda:entry></camunda:map></camunda:inputParameter>
          <camunda:outputParameter name="salaryBase">\${response.salaryBase}</camunda:outputParameter>
        </camunda:inputOutput>
        <camunda:failedJobRetryTimeCycle>R3/PT10S</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="Unknown" attachedToRef="FetchBase">
      <bpmn:errorEventDefinition errorRef="EmployeeUnknown" camunda:errorMessageVariable="why" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="FetchBase" targetRef="Record" />
    <bpmn:serviceTask id="Record" name="Record payroll">
      <bpmn:extensionElements>
        <camunda:connector>
          <camunda:connectorId>http-connector</camunda:connectorId>
          <camunda:inputOutput>
            <camunda:inputParameter name="url">\${accountingUrl}/payroll</camunda:inputParameter>
            <camunda:inputParameter name="method">POST</camunda:inputParameter>
            <camunda:inputParameter name="payload"><camunda:map>
              <camunda:entry key="employeeId">\${employeeId}</camunda:entry>
              <camunda:entry key="salaryBase">\${salaryBase}</camunda:entry>
              <camunda:entry key="bonus">\${salaryBase * 0.1}</camunda:entry>
            </camunda:map></camunda:inputParameter>
            <camunda:outputParameter name="payrollId">\${response.payrollId}</camunda:outputParameter>
          </camunda:inputOutput>
        </camunda:connector>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Record" targetRef="Paid" />
    <bpmn:endEvent id="Paid" />
    <bpmn:sequenceFlow id="f4" sourceRef="Unknown" targetRef="NotPaid" />
    <bpmn:endEvent id="NotPaid" />`,
  '<bpmn:error id="EmployeeUnknown" name="Employee unknown" errorCode="EMPLOYEE_UNKNOWN" />',
);

Feature('The HTTP connector calls systems, and Baton retries what fails', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let t: TestBaton;
  let accounting: Accounting;
  const { instance, history, incidents } = operatorView(() => t);
  const start = async (employeeId: string, accountingUrl = accounting.url): Promise<string> =>
    (await t.as(DEMO).post('/api/processes/payroll/instances').send({ variables: { employeeId, accountingUrl } }).expect(201)).body.id;

  before(async () => {
    accounting = await startAccounting();
    t = await startBaton({ env: { BATON_CONNECTORS: 'http' } });
    await deploy(t.as(DEMO), PAYROLL, 'payroll.bpmn');
  });
  after(async () => {
    await t?.close();
    await accounting?.close();
  });

  Scenario('a flaky accounting system fails twice, then answers', () => {
    let id: string;
    Given('the accounting system answers 503 to its next two calls', async () => {
      accounting.failing = 2;
      accounting.requests.length = 0;
      id = await start('E-100');
    });
    When('Baton calls it, and again after each 10 s back-off', async () => {
      await t.baton.connectors.tick();
      assert.equal(accounting.requests.length, 1);
      t.advance(10 * SECOND + 1);
      await t.baton.connectors.tick();
      t.advance(10 * SECOND + 1);
      await t.baton.connectors.tick();
    });
    Then('the run completes with the answers mapped to variables', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.variables.salaryBase, 5200);
      assert.equal(shown.variables.payrollId, 'PR-0001');
      assert.equal(shown.variables.response, undefined, 'with output parameters only what they map is set');
      const payroll = accounting.requests.find((request) => request.method === 'POST');
      assert.deepEqual(payroll?.body, { employeeId: 'E-100', salaryBase: 5200, bonus: 520 });
    });
    And('the history shows the two failed attempts, and each call carried its idempotency key', async () => {
      const events = await history(id);
      const failed = events.filter((event) => event.type === 'job.failed');
      assert.deepEqual(
        failed.map((event) => [event.elementId, event.data?.attempt, event.data?.retries, event.data?.message]),
        [
          ['FetchBase', 1, 2, 'GET http://127.0.0.1:' + new URL(accounting.url).port + '/employees/E-100/salary-base answered 503: accounting is restarting'],
          ['FetchBase', 2, 1, 'GET http://127.0.0.1:' + new URL(accounting.url).port + '/employees/E-100/salary-base answered 503: accounting is restarting'],
        ],
      );
      const jobId = String(failed[0]?.data?.jobId);
      const gets = accounting.requests.filter((request) => request.method === 'GET').map((request) => request.idempotencyKey);
      assert.deepEqual(gets, [`${jobId}.1`, `${jobId}.2`, `${jobId}.3`]);
      assert.match(String(payrollKey(accounting)), /^[\w-]+\.1$/);
    });
  });

  Scenario('the system stays down: an incident; back up, an operator retries with a corrected variable', () => {
    let id: string;
    let incidentId: string;
    Given('a run whose accounting URL points where nothing listens', async () => {
      id = await start('E-100', `http://127.0.0.1:${await closedPort()}`);
    });
    When('all three attempts fail', async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        await t.baton.connectors.tick();
        t.advance(10 * SECOND + 1);
      }
    });
    Then('it is an incident naming the call and the network error', async () => {
      const found = await incidents(`processKey=payroll&elementId=FetchBase&instanceId=${id}`);
      assert.equal(found.total, 1);
      incidentId = found.items[0].id;
      assert.match(found.items[0].message, /^GET http:\/\/127\.0\.0\.1:\d+\/employees\/E-100\/salary-base failed: fetch failed.*ECONNREFUSED/);
      assert.equal(await t.baton.connectors.tick(), 0, 'an incident is not tried again');
    });
    When('an operator retries it with the right URL', async () => {
      await t.as(DEMO).post(`/api/incidents/${incidentId}/retry`).send({ variables: { accountingUrl: accounting.url } }).expect(204);
      await t.baton.connectors.tick();
    });
    Then('the run completes', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.variables.salaryBase, 5200);
      const retried = (await history(id)).find((event) => event.type === 'incident.retried');
      assert.equal(retried?.user, 'demo');
    });
  });

  Scenario('a configured 4xx is a BPMN error; another 4xx needs a person at once', () => {
    let unknown: string;
    let bad: string;
    Given('runs for an employee the system does not know (404) and for a malformed id (400)', async () => {
      unknown = await start('E-404');
      bad = await start('BAD!');
      await t.baton.connectors.tick();
    });
    Then('the 404 takes the error boundary, with the answer in the error message', async () => {
      const shown = await instance(unknown);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'NotPaid')?.status, 'completed');
      assert.match(shown.variables.why, /answered 404: Employee E-404 is unknown$/);
    });
    And('the 400 is an incident after one attempt, without retries', async () => {
      const shown = await instance(bad);
      assert.equal(shown.status, 'running');
      assert.match(shown.incidents[0].message, /answered 400: malformed employee id$/);
      assert.equal((await history(bad)).filter((event) => event.type === 'job.failed').length, 1);
    });
  });
});

function payrollKey(accounting: Accounting): string | undefined {
  return accounting.requests.find((request) => request.method === 'POST')?.idempotencyKey;
}
