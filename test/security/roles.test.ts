/**
 * Every endpoint, every role, and no credentials. The endpoints are read from the routers of a
 * running Baton, so an endpoint added without a row here fails this test.
 */
import assert from 'node:assert/strict';
import type supertest from 'supertest';
import { hashSecret } from '../../server/auth/secrets.ts';
import type { StoredUser } from '../../server/auth/users.ts';
import { DEMO, MARY, WORKER, bpmn, deploy, startBaton, type Agent, type TestBaton } from '../helpers/baton.ts';
import { endpoints } from '../helpers/endpoints.ts';

type Role = 'admin' | 'operator' | 'worker' | 'user';
const ROLES: Role[] = ['admin', 'operator', 'worker', 'user'];
const OLIVE = { user: 'olive', password: 'olive-password' };
const WHO: Record<Role, { user: string; password: string }> = { admin: DEMO, operator: OLIVE, worker: WORKER, user: MARY };

/** A user task for the managers (mary), two external tasks, a receive task: something for every endpoint. */
const MATRIX = bpmn(
  'matrix',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Fork" />
    <bpmn:parallelGateway id="Fork" />
    <bpmn:sequenceFlow id="f1" sourceRef="Fork" targetRef="Approve" />
    <bpmn:userTask id="Approve" name="Approve" camunda:candidateGroups="managers" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="End1" />
    <bpmn:endEvent id="End1" />
    <bpmn:sequenceFlow id="f3" sourceRef="Fork" targetRef="Work" />
    <bpmn:serviceTask id="Work" name="Work" camunda:type="external" camunda:topic="matrix.work" />
    <bpmn:sequenceFlow id="f4" sourceRef="Work" targetRef="End2" />
    <bpmn:endEvent id="End2" />
    <bpmn:sequenceFlow id="f5" sourceRef="Fork" targetRef="Broken" />
    <bpmn:serviceTask id="Broken" name="Broken" camunda:type="external" camunda:topic="matrix.broken" />
    <bpmn:sequenceFlow id="f6" sourceRef="Broken" targetRef="End3" />
    <bpmn:endEvent id="End3" />
    <bpmn:sequenceFlow id="f7" sourceRef="Fork" targetRef="Wait" />
    <bpmn:receiveTask id="Wait" name="Wait" messageRef="Go" />
    <bpmn:sequenceFlow id="f8" sourceRef="Wait" targetRef="End4" />
    <bpmn:endEvent id="End4" />`,
  '<bpmn:message id="Go" name="matrix.go" />',
);

/** One running instance and the ids the endpoints take. */
interface Fixture {
  instanceId: string;
  taskId: string;
  /** external task locked by worker `matrix-worker` */
  jobId: string;
  /** external task that is an incident */
  incidentId: string;
  deploymentId: string;
  definitionId: string;
}

/** What a role gets: 'ok' is any 2xx. */
type Outcome = 'ok' | 403;
const only = (...roles: Role[]): Record<Role, Outcome> => Object.fromEntries(ROLES.map((role) => [role, roles.includes(role) ? 'ok' : 403])) as Record<Role, Outcome>;
const READERS = only('admin', 'operator', 'user');
const EVERYONE = only('admin', 'operator', 'worker', 'user');

interface Row {
  outcome: Record<Role, Outcome>;
  /** a fresh instance for every call (the call changes it) */
  fresh?: boolean;
  /** mary claims the task first */
  claimed?: boolean;
  /** the request: path ids filled from the fixture, and a body */
  send?: (request: supertest.Test, f: Fixture) => supertest.Test;
  query?: (f: Fixture) => string;
  /** answers a stream that does not end: only the status is read */
  stream?: boolean;
}

const json = (body: (f: Fixture) => object) => (request: supertest.Test, f: Fixture) => request.send(body(f));
const upload = (field: string) => (request: supertest.Test) => request.attach(field, Buffer.from(MATRIX), 'matrix.bpmn');
const lockHolder = { workerId: 'matrix-worker' };

/** The specification: every endpoint with what each role gets. Anonymous callers always get 401. */
const TABLE: Record<string, Row> = {
  'POST /api/deployments': { outcome: only('admin'), send: upload('file') },
  'GET /api/processes': { outcome: READERS },
  'GET /api/processes/:key': { outcome: READERS },
  'GET /api/processes/:key/xml': { outcome: READERS },
  'POST /api/processes/:key/instances': { outcome: only('admin', 'user'), send: json(() => ({})) },
  'GET /api/instances': { outcome: READERS },
  'GET /api/instances/:id': { outcome: READERS },
  'GET /api/instances/:id/history': { outcome: READERS },
  'POST /api/instances/:id/cancel': { outcome: only('admin', 'operator'), fresh: true },
  'GET /api/tasks': { outcome: READERS },
  'GET /api/tasks/:id': { outcome: READERS },
  // user tasks are worked by their candidates only (mary), admins included
  'POST /api/tasks/:id/claim': { outcome: only('user'), fresh: true },
  'POST /api/tasks/:id/unclaim': { outcome: only('admin', 'operator', 'user'), fresh: true, claimed: true },
  'POST /api/tasks/:id/complete': { outcome: only('user'), fresh: true, send: json(() => ({ variables: {} })) },
  'POST /api/external-tasks/fetch-and-lock': {
    outcome: only('admin', 'worker'),
    send: json(() => ({ workerId: 'w', maxTasks: 1, topics: [{ topicName: 'matrix.none', lockDuration: 1000 }] })),
  },
  'POST /api/external-tasks/:id/complete': { outcome: only('admin', 'worker'), fresh: true, send: json(() => lockHolder) },
  'POST /api/external-tasks/:id/failure': { outcome: only('admin', 'worker'), fresh: true, send: json(() => ({ ...lockHolder, errorMessage: 'no' })) },
  'POST /api/external-tasks/:id/bpmn-error': { outcome: only('admin', 'worker'), fresh: true, send: json(() => ({ ...lockHolder, errorCode: 'E' })) },
  'POST /api/external-tasks/:id/extend-lock': { outcome: only('admin', 'worker'), fresh: true, send: json(() => ({ ...lockHolder, newDuration: 1000 })) },
  'POST /api/external-tasks/:id/unlock': { outcome: only('admin', 'worker'), fresh: true },
  'POST /api/messages': { outcome: only('admin', 'operator', 'worker'), fresh: true, send: json((f) => ({ name: 'matrix.go', instanceId: f.instanceId })) },
  'GET /api/incidents': { outcome: only('admin', 'operator') },
  'POST /api/incidents/:id/retry': { outcome: only('admin', 'operator'), fresh: true, send: json(() => ({})) },

  'GET /engine-rest/version': { outcome: EVERYONE },
  'GET /engine-rest/engine': { outcome: EVERYONE },
  'GET /engine-rest/deployment': { outcome: READERS },
  'GET /engine-rest/deployment/count': { outcome: READERS },
  'POST /engine-rest/deployment/create': { outcome: only('admin'), send: upload('upload') },
  'GET /engine-rest/deployment/:id': { outcome: READERS },
  'GET /engine-rest/process-definition': { outcome: READERS },
  'GET /engine-rest/process-definition/count': { outcome: READERS },
  'GET /engine-rest/process-definition/key/:key': { outcome: READERS },
  'GET /engine-rest/process-definition/key/:key/xml': { outcome: READERS },
  'POST /engine-rest/process-definition/key/:key/start': { outcome: only('admin', 'user'), send: json(() => ({})) },
  'GET /engine-rest/process-definition/:id': { outcome: READERS },
  'GET /engine-rest/process-definition/:id/xml': { outcome: READERS },
  'POST /engine-rest/process-definition/:id/start': { outcome: only('admin', 'user'), send: json(() => ({})) },
  'GET /engine-rest/process-instance': { outcome: READERS },
  'GET /engine-rest/process-instance/count': { outcome: READERS },
  'GET /engine-rest/process-instance/:id': { outcome: READERS },
  'GET /engine-rest/process-instance/:id/variables': { outcome: READERS },
  'GET /engine-rest/process-instance/:id/variables/:name': { outcome: READERS },
  'POST /engine-rest/message': {
    outcome: only('admin', 'operator', 'worker'),
    fresh: true,
    send: json((f) => ({ messageName: 'matrix.go', processInstanceId: f.instanceId })),
  },
  'GET /engine-rest/incident': { outcome: only('admin', 'operator') },
  'GET /engine-rest/incident/count': { outcome: only('admin', 'operator') },
  'GET /engine-rest/task': { outcome: READERS },
  'GET /engine-rest/task/count': { outcome: READERS },
  'GET /engine-rest/task/:id': { outcome: READERS },
  'POST /engine-rest/task/:id/claim': { outcome: only('user'), fresh: true, send: json(() => ({ userId: 'mary' })) },
  'POST /engine-rest/task/:id/unclaim': { outcome: only('admin', 'operator', 'user'), fresh: true, claimed: true, send: json(() => ({})) },
  'POST /engine-rest/task/:id/complete': { outcome: only('user'), fresh: true, send: json(() => ({ variables: {} })) },
  'POST /engine-rest/task/:id/submit-form': { outcome: only('user'), fresh: true, send: json(() => ({ variables: {} })) },
  'GET /engine-rest/task/:id/form-variables': { outcome: READERS },
  'GET /engine-rest/task/:id/variables': { outcome: READERS },
  'POST /engine-rest/external-task/fetchAndLock': {
    outcome: only('admin', 'worker'),
    send: json(() => ({ workerId: 'w', maxTasks: 1, topics: [{ topicName: 'matrix.none', lockDuration: 1000 }] })),
  },
  'POST /engine-rest/external-task/:id/complete': { outcome: only('admin', 'worker'), fresh: true, send: json(() => lockHolder) },
  'POST /engine-rest/external-task/:id/failure': {
    outcome: only('admin', 'worker'),
    fresh: true,
    send: json(() => ({ ...lockHolder, errorMessage: 'no', retries: 1, retryTimeout: 1000 })),
  },
  'POST /engine-rest/external-task/:id/bpmnError': { outcome: only('admin', 'worker'), fresh: true, send: json(() => ({ ...lockHolder, errorCode: 'E' })) },
  'POST /engine-rest/external-task/:id/extendLock': { outcome: only('admin', 'worker'), fresh: true, send: json(() => ({ ...lockHolder, newDuration: 1000 })) },
  'POST /engine-rest/external-task/:id/unlock': { outcome: only('admin', 'worker'), fresh: true },
  'GET /engine-rest/history/process-instance': { outcome: READERS },
  'GET /engine-rest/history/process-instance/count': { outcome: READERS },
  'GET /engine-rest/history/process-instance/:id': { outcome: READERS },
  'GET /engine-rest/history/activity-instance': { outcome: READERS, query: (f) => `?processInstanceId=${f.instanceId}` },
  'GET /engine-rest/history/activity-instance/count': { outcome: READERS, query: (f) => `?processInstanceId=${f.instanceId}` },

  // the web app's own endpoints (signing in with a session cookie is before authentication)
  'GET /api/me': { outcome: EVERYONE },
  'DELETE /api/session': { outcome: EVERYONE },
  'DELETE /api/users/:name/sessions': { outcome: only('admin') },
  'GET /api/web/processes/:key/stats': { outcome: only('admin', 'operator'), query: () => '?version=1' },
  'GET /api/web/instances': { outcome: READERS },
  'GET /api/web/instances/:id/events': { outcome: READERS, stream: true },
};

/** The status and type of a streaming answer, without waiting for its end. */
async function statusOnly(url: string, { user, password }: { user: string; password: string }): Promise<{ status: number; type: string; text: string }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }, signal: abort.signal });
  const type = (res.headers.get('content-type') ?? '').split(';')[0] as string;
  const text = res.status >= 300 ? await res.text() : '';
  abort.abort();
  return { status: res.status, type, text };
}

/** The path of an endpoint with its parameters filled in from the fixture. */
function pathOf(endpoint: string, f: Fixture): string {
  const path = endpoint.split(' ')[1] as string;
  const id = path.includes('/external-task') ? f.jobId
    : path.includes('/incidents/') ? f.incidentId
    : path.includes('/task') ? f.taskId
    : path.includes('/deployment/') ? f.deploymentId
    : path.includes('/process-definition/') ? f.definitionId
    : f.instanceId;
  return path.replace(':key', 'matrix').replace(':name', path.startsWith('/api/users/') ? 'mary' : 'amount').replace(':id', id);
}

Feature('Every endpoint answers each role as the role table says', () => {
  let t: TestBaton;
  let shared: Fixture;
  let deploymentId: string;
  let definitionId: string;

  /** a new instance with a claimable task, a locked external task, an incident and a waiting receive task */
  const fixture = async (claimed = false): Promise<Fixture> => {
    const admin = t.as(DEMO);
    const instanceId = (await admin.post('/api/processes/matrix/instances').send({ variables: { amount: 5 } }).expect(201)).body.id as string;
    const taskId = (await admin.get(`/api/tasks?instanceId=${instanceId}`).expect(200)).body.items[0].id as string;
    if (claimed) await t.as(MARY).post(`/api/tasks/${taskId}/claim`).expect(200);
    const mine = async (topicName: string): Promise<string> => {
      const res = await t.as(WORKER).post('/api/external-tasks/fetch-and-lock')
        .send({ ...lockHolder, maxTasks: 100, topics: [{ topicName, lockDuration: 600_000 }] }).expect(200);
      const task = (res.body as { id: string; instanceId: string }[]).find((locked) => locked.instanceId === instanceId);
      assert.ok(task, `a ${topicName} task of ${instanceId}`);
      return task.id;
    };
    const jobId = await mine('matrix.work');
    const incidentId = await mine('matrix.broken');
    await t.as(WORKER).post(`/api/external-tasks/${incidentId}/failure`).send({ ...lockHolder, errorMessage: 'broken', retries: 0 }).expect(204);
    return { instanceId, taskId, jobId, incidentId, deploymentId, definitionId };
  };

  before(async () => {
    const olive: StoredUser = { name: 'olive', passwordHash: await hashSecret(OLIVE.password), tokenHashes: [], groups: ['operators'], roles: ['operator'] };
    t = await startBaton({ users: [olive] });
    deploymentId = (await deploy(t.as(DEMO), MATRIX, 'matrix.bpmn')).id;
    definitionId = (await t.as(DEMO).get('/engine-rest/process-definition/key/matrix').expect(200)).body.id;
    shared = await fixture();
  });
  after(() => t.close());

  Scenario('the table covers every endpoint', () => {
    Then('each endpoint of the routers has a row, and each row is an endpoint', () => {
      const answered = endpoints(t.baton.app);
      assert.ok(answered.length > 60, `found ${answered.length} endpoints`);
      assert.deepEqual(answered.filter((endpoint) => !TABLE[endpoint]), [], 'endpoints without a row in the role table');
      assert.deepEqual(Object.keys(TABLE).filter((endpoint) => !answered.includes(endpoint)), [], 'rows without an endpoint');
    });
  });

  Scenario('without credentials, every endpoint is 401', () => {
    Then('each answers 401 problem+json with a Basic challenge, and nothing happens', async () => {
      for (const endpoint of Object.keys(TABLE)) {
        const [method, ] = endpoint.split(' ') as [string];
        const url = pathOf(endpoint, shared);
        const res = await (method === 'GET' ? t.anonymous().get(url) : method === 'DELETE' ? t.anonymous().delete(url) : t.anonymous().post(url).send({}));
        assert.equal(res.status, 401, `${endpoint}: ${res.status} ${res.text}`);
        assert.equal(res.type, 'application/problem+json', endpoint);
        assert.match(res.headers['www-authenticate'] ?? '', /^Basic /, endpoint);
      }
      const instance = await t.as(DEMO).get(`/api/instances/${shared.instanceId}`).expect(200);
      assert.equal(instance.body.status, 'running');
      assert.equal(instance.body.tasks[0].assignee, null);
    });
  });

  for (const role of ROLES) {
    Scenario(`signed in as ${role}`, () => {
      Then('every endpoint answers 2xx or 403 as the table says', async () => {
        const mismatches: string[] = [];
        for (const [endpoint, row] of Object.entries(TABLE)) {
          const f = row.fresh ? await fixture(row.claimed) : shared;
          const [method] = endpoint.split(' ') as [string];
          const agent: Agent = t.as(WHO[role]);
          const url = pathOf(endpoint, f) + (row.query?.(f) ?? '');
          let request = method === 'GET' ? agent.get(url) : method === 'DELETE' ? agent.delete(url) : agent.post(url);
          if (row.send) request = row.send(request, f);
          const res = row.stream ? await statusOnly(t.url + url, WHO[role]) : await request;
          const expected = row.outcome[role];
          const ok = expected === 'ok' ? res.status >= 200 && res.status < 300 : res.status === 403;
          if (!ok) mismatches.push(`${endpoint}: expected ${expected}, got ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status === 403 && endpoint.includes(' /api/')) assert.equal(res.type, 'application/problem+json', endpoint);
        }
        assert.deepEqual(mismatches, []);
      });
    });
  }
});
