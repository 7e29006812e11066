import assert from 'node:assert/strict';
import type { HistoryEvent } from './api-types.ts';
import { DEMO, type TestBaton } from './baton.ts';

/** An open user task as `GET /api/tasks` lists it, as far as these steps read it. */
interface OpenTask {
  id: string;
  elementId: string;
}

/**
 * The REST steps that scenarios of BPMN semantics share, as the demo admin: deploy a model (and
 * check that Baton runs it), start it, see and complete its user tasks, read its status and how
 * often an element completed.
 */
export function instanceSteps(baton: () => TestBaton) {
  const as = () => baton().as(DEMO);
  const tasksOf = async (id: string): Promise<OpenTask[]> => (await as().get(`/api/tasks?instanceId=${id}`).expect(200)).body.items as OpenTask[];
  return {
    async deploy(xml: string, key: string): Promise<void> {
      await as().post('/api/deployments').attach('file', Buffer.from(xml), `${key}.bpmn`).expect(201);
      const { versions } = (await as().get(`/api/processes/${key}`).expect(200)).body as { versions: { executable?: boolean; notExecuted?: unknown[] }[] };
      assert.notEqual(versions[0]?.executable, false, JSON.stringify(versions[0]?.notExecuted));
    },
    async start(key: string, variables: Record<string, unknown> = {}): Promise<string> {
      return (await as().post(`/api/processes/${key}/instances`).send({ variables }).expect(201)).body.id;
    },
    /** the element ids of the instance's open user tasks, sorted */
    async open(id: string): Promise<string[]> {
      return (await tasksOf(id)).map((task) => task.elementId).sort();
    },
    async complete(id: string, elementId: string, variables: Record<string, unknown> = {}): Promise<void> {
      const tasks = await tasksOf(id);
      const task = tasks.find((candidate) => candidate.elementId === elementId);
      assert.ok(task, `no open task <${elementId}> (open: ${tasks.map((candidate) => candidate.elementId).join(', ')})`);
      await as().post(`/api/tasks/${task.id}/complete`).send({ variables }).expect(204);
    },
    async status(id: string): Promise<string> {
      return (await as().get(`/api/instances/${id}`).expect(200)).body.status;
    },
    /** how often the element completed in the instance's history */
    async completions(id: string, elementId: string): Promise<number> {
      const events = (await as().get(`/api/instances/${id}/history`).expect(200)).body as HistoryEvent[];
      return events.filter((event) => event.type === 'element.completed' && event.elementId === elementId).length;
    },
  };
}
