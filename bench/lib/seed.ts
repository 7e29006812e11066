/**
 * Seeding many instances waiting at "Approve bonus". Real instances are made through Baton's
 * service layer (start, the two calculations fetched, locked and completed); the rest are copies
 * of them written through the store API (`createInstance`), each with fresh ids for the
 * instance, its task and its past jobs — the records and history a real run writes, minus the
 * engine time. A copy starts at revision 1 and its past jobs are not in the job-owner index.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent, InstanceRecord, Store } from '../../server/store/types.ts';
import { ADMIN, inProcessBaton } from './in-process.ts';
import { ANSWERS } from './pipeline.ts';
import { progress } from './scale.ts';

const SALARY_XML = fs.readFileSync(path.join(import.meta.dirname, '../../processes/salary/salary.bpmn'), 'utf8');
const CHUNK = 2000;

/** A real instance to copy: its record and history. */
interface Template {
  record: InstanceRecord;
  history: HistoryEvent[];
  /** every id of the template to replace in a copy */
  ids: string[];
}

/** Makes `count` instances waiting at the approval in `dataDir`, `real` of them through the engine. */
export async function seedWaiting(
  dataDir: string,
  count: number,
  real: number,
  store?: Store,
): Promise<{ seconds: number; real: number; copied: number }> {
  const started = performance.now();
  const baton = store ? inProcessBaton(undefined, store) : inProcessBaton(dataDir);
  try {
    await baton.deployments.deploy([{ name: 'salary.bpmn', xml: SALARY_XML }], 'bench', 'demo');
    const ids: string[] = [];
    for (let i = 0; i < real; i++) ids.push((await baton.instances.start('salary', { variables: { employeeId: `E-${i}` } }, ADMIN)).id);
    const controller = new AbortController();
    for (let open = real * 2; open > 0; ) {
      const tasks = await baton.jobs.fetchAndLock(
        { worker: { workerId: 'seed', user: ADMIN }, maxTasks: 50, topics: ['accounting.salary-base', 'bonus.calculate'].map((topicName) => ({ topicName, lockDuration: 60_000 })), asyncResponseTimeout: 1000 },
        controller.signal,
      );
      for (const task of tasks) await baton.jobs.complete(task.id, { workerId: 'seed', user: ADMIN }, ANSWERS[task.topicName] ?? {});
      open -= tasks.length;
    }
    const templates: Template[] = [];
    for (const id of ids) {
      const record = (await baton.store.getInstance(id)) as InstanceRecord;
      if (record.userTasks.length !== 1) throw new Error(`seed: instance ${id} does not wait at the approval`);
      const history = await baton.store.history(id);
      const jobIds = history.flatMap((event) => (typeof event.data?.jobId === 'string' ? [event.data.jobId] : []));
      templates.push({ record, history, ids: [...new Set([id, ...record.userTasks.map((task) => task.id), ...jobIds])] });
    }
    const copied = await copyInstances(baton.store, templates, count - real);
    return { seconds: (performance.now() - started) / 1000, real, copied };
  } finally {
    await baton.close();
  }
}

/** Writes `count` copies of the templates; with `dueAt`, their timers fall due then. */
export async function copyInstances(store: Store, templates: Template[], count: number, dueAt?: string): Promise<number> {
  const texts = templates.map((template) => ({ ...template, text: JSON.stringify({ record: template.record, history: template.history }) }));
  for (let done = 0; done < count; ) {
    const size = Math.min(CHUNK, count - done);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const template = texts[(done + i) % texts.length] as (typeof texts)[number];
      let text = template.text;
      for (const id of template.ids) text = text.replaceAll(id, randomUUID());
      const copy = JSON.parse(text) as { record: InstanceRecord; history: HistoryEvent[] };
      if (dueAt) {
        copy.record.timers = copy.record.timers.map((timer) => ({ ...timer, dueAt }));
        copy.record.nextTimerAt = dueAt;
      }
      writes.push(store.createInstance(copy.record, copy.history));
    }
    await Promise.all(writes);
    done += size;
    if (done % 20_000 < CHUNK || done === count) progress(`seeded ${done}/${count} copies`);
  }
  return count;
}

/** The real instances of a seeded store, to copy again (W4 adds instances with due timers). */
export async function templatesOf(store: Store, count: number): Promise<Template[]> {
  const page = await store.findInstances({ status: 'running', offset: 0, limit: count });
  const templates: Template[] = [];
  for (const listing of page.items) {
    const record = await store.getInstance(listing.id);
    if (!record) continue;
    const history = await store.history(record.id);
    const jobIds = history.flatMap((event) => (typeof event.data?.jobId === 'string' ? [event.data.jobId] : []));
    templates.push({ record, history, ids: [...new Set([record.id, ...record.userTasks.map((task) => task.id), ...jobIds])] });
  }
  return templates;
}
