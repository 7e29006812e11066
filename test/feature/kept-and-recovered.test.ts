import assert from 'node:assert/strict';
import type { HistoryEvent } from '../helpers/api-types.ts';
import { DEMO, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';
import { KINDS, type Kind, type Steps } from '../fixtures/event-kinds.ts';

/**
 * An instance's next event runs on the engine kept in memory (BATON_LIVE_ENGINES) while that is
 * current and used within 30 s; otherwise on an engine recovered from the saved state. The history
 * a user reads must not tell the two apart: each kind of event runs three ways — engines kept,
 * engines never kept (BATON_LIVE_ENGINES=0), and engines kept but every event arriving after the
 * 30 s idle window (the attack: a PT35S boundary timer lost its steps) — and the histories and the
 * `elements` view must be identical, ids and times aside.
 */

const IDLE = 31_000;
const MODES = ['kept', 'recovered', 'idle'] as const;
type Mode = (typeof MODES)[number];

/** an instance's history and elements, without what differs between two runs (ids, times) */
async function observed(t: TestBaton, id: string): Promise<{ history: unknown[]; elements: unknown[]; status: string }> {
  const instance = (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body as { status: string; elements: { id: string; type: string; status: string; message?: string }[] };
  const history = (await t.as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body as HistoryEvent[];
  const executions = new Map<string, string>();
  const execution = (value: string): string => {
    if (!executions.has(value)) executions.set(value, `#${executions.size + 1}`);
    return executions.get(value) as string;
  };
  const plain = (value: unknown): unknown => {
    if (typeof value === 'string') return /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(value) ? '<uuid>' : /^\d{4}-\d\d-\d\dT/.test(value) ? '<time>' : value;
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, key === 'executionId' ? execution(String(v)) : plain(v)]));
    return value;
  };
  return {
    status: instance.status,
    history: history.map((event) => plain({ ...event, seq: undefined, at: undefined, instanceId: undefined })),
    elements: instance.elements.map((element) => ({ id: element.id, type: element.type, status: element.status, message: element.message })),
  };
}

/** the REST steps of one mode: before each event the clock moves as the mode says */
function stepsOf(t: TestBaton, mode: Mode, instances: string[]): Steps {
  const wait = (ms = 0): void => t.advance(mode === 'idle' ? Math.max(ms, IDLE) : ms);
  const last = (): string => instances.at(-1) as string;
  const job = async (topic: string) => {
    const [locked] = await fetchTasks(t.as(WORKER), topic);
    assert.ok(locked, `no job of topic ${topic}`);
    return locked;
  };
  return {
    async start(key, variables = {}) {
      wait();
      instances.push((await t.as(DEMO).post(`/api/processes/${key}/instances`).send({ variables }).expect(201)).body.id);
    },
    async complete(elementId, variables = {}) {
      wait();
      const tasks = (await t.as(DEMO).get(`/api/tasks?instanceId=${last()}`).expect(200)).body.items as { id: string; elementId: string }[];
      // of several open tasks of one element (multi-instance), the one created first
      const history = (await t.as(DEMO).get(`/api/instances/${last()}/history`).expect(200)).body as HistoryEvent[];
      const created = history.filter((event) => event.type === 'task.created').map((event) => event.data?.taskId);
      const task = tasks.filter((candidate) => candidate.elementId === elementId).sort((a, b) => created.indexOf(a.id) - created.indexOf(b.id))[0];
      assert.ok(task, `no open task <${elementId}>`);
      await t.as(DEMO).post(`/api/tasks/${task.id}/complete`).send({ variables }).expect(204);
    },
    async work(topic, variables = {}) {
      const locked = await job(topic);
      wait();
      await t.as(WORKER).post(`/api/external-tasks/${locked.id}/complete`).send({ workerId: 'test-worker', variables }).expect(204);
    },
    async bpmnError(topic, errorCode) {
      const locked = await job(topic);
      wait();
      await t.as(WORKER).post(`/api/external-tasks/${locked.id}/bpmn-error`).send({ workerId: 'test-worker', errorCode }).expect(204);
    },
    async fail(topic) {
      const locked = await job(topic);
      wait();
      await t.as(WORKER).post(`/api/external-tasks/${locked.id}/failure`).send({ workerId: 'test-worker', errorMessage: 'disk full', retries: 0 }).expect(204);
    },
    async retryIncident() {
      wait();
      const incidents = (await t.as(DEMO).get(`/api/incidents?instanceId=${last()}`).expect(200)).body.items as { id: string }[];
      assert.equal(incidents.length, 1);
      await t.as(DEMO).post(`/api/incidents/${incidents[0]?.id}/retry`).send({}).expect(204);
    },
    async message(name) {
      wait();
      await t.as(WORKER).post('/api/messages').send({ name, instanceId: last() }).expect(200);
    },
    async timers(ms) {
      wait(ms);
      assert.ok((await t.baton.scheduler.tick()) >= 1, 'no timer fell due');
    },
  };
}

Feature('The history of a step is the same on a kept engine and on a recovered one', () => {
  const batons = new Map<Mode, TestBaton>();
  before(async () => {
    for (const mode of MODES) {
      const t = await startBaton({ env: { BATON_LIVE_ENGINES: mode === 'recovered' ? '0' : '64' } });
      for (const kind of KINDS) await deploy(t.as(DEMO), bpmn(kind.key, kind.body, kind.extra ?? ''), `${kind.key}.bpmn`);
      batons.set(mode, t);
    }
  });
  after(async () => {
    for (const t of batons.values()) await t.close();
  });

  const runAll = async (kind: Kind) => {
    const seen = new Map<Mode, Awaited<ReturnType<typeof observed>>[]>();
    for (const mode of MODES) {
      const t = batons.get(mode) as TestBaton;
      const instances: string[] = [];
      await kind.steps(stepsOf(t, mode, instances));
      await t.baton.thrownEvents.idle();
      seen.set(mode, await Promise.all(instances.map((id) => observed(t, id))));
    }
    return seen;
  };

  for (const kind of KINDS) {
    Scenario(kind.title, () => {
      let seen: Map<Mode, Awaited<ReturnType<typeof observed>>[]>;
      When('the same events reach an instance with engines kept, never kept, and kept but idle past 30 s', async () => {
        seen = await runAll(kind);
      });
      Then('the histories and elements are identical', () => {
        const kept = seen.get('kept');
        assert.deepEqual(seen.get('recovered'), kept, 'never kept');
        assert.deepEqual(seen.get('idle'), kept, 'idle past the window');
      });
      And(`the history shows ${kind.expect.join(', ')} and the instance ${kind.status}`, () => {
        const instances = seen.get('idle') ?? [];
        assert.ok(instances.length);
        for (const instance of instances) assert.equal(instance.status, kind.status);
        const steps = instances.flatMap((instance) => instance.history) as { type: string; elementId?: string }[];
        for (const expected of kind.expect) {
          const [type, elementId] = expected.split(' ');
          assert.ok(steps.some((step) => step.type === type && step.elementId === elementId), `${expected} missing: ${steps.map((s) => `${s.type} ${s.elementId ?? ''}`).join(', ')}`);
        }
      });
    });
  }
});
