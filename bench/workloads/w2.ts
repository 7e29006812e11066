/**
 * W2, engine ratio: the salary process on bare bpmn-engine (in memory, one parsed definition,
 * services answering at once, approval signalled at once) against Baton's own service layer in
 * this process (no HTTP, durable SQLite store) driven the same way, in rounds that alternate, in
 * one run. Reports instances/s of both and their ratio.
 */
import fs from 'node:fs';
import path from 'node:path';
import { barChart } from '../lib/chart.ts';
import { ADMIN, MANAGER, inProcessBaton } from '../lib/in-process.ts';
import { ANSWERS, FINAL_TOPIC, SALARY_TOPICS, Slots, drive } from '../lib/pipeline.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { Latencies, median, round } from '../lib/stats.ts';
import { runBareSalary } from './bare-engine.ts';

const SALARY_XML = fs.readFileSync(path.join(import.meta.dirname, '../../processes/salary/salary.bpmn'), 'utf8');
const CONCURRENCY = 10;
const ROUNDS = 3;

export async function bareRound(total: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (next < total) await runBareSalary(SALARY_XML, `E-${next++}`);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return total / ((performance.now() - started) / 1000);
}

export async function batonRound(total: number, latencies: Latencies): Promise<number> {
  const baton = inProcessBaton();
  try {
    await baton.deployments.deploy([{ name: 'salary.bpmn', xml: SALARY_XML }], 'bench', 'demo');
    const slots = new Slots(CONCURRENCY);
    const controller = new AbortController();
    const worker = async (id: string): Promise<void> => {
      while (!controller.signal.aborted) {
        const tasks = await latencies.time('fetch-and-lock', () =>
          baton.jobs.fetchAndLock(
            { worker: { workerId: id, user: ADMIN }, maxTasks: 10, topics: SALARY_TOPICS.map((topicName) => ({ topicName, lockDuration: 60_000 })), asyncResponseTimeout: 200 },
            controller.signal,
          ),
        );
        await Promise.all(
          tasks.map(async (task) => {
            await latencies.time('external task complete', () => baton.jobs.complete(task.id, { workerId: id, user: ADMIN }, ANSWERS[task.topicName] ?? {}));
            if (task.topicName === FINAL_TOPIC) slots.release();
          }),
        );
      }
    };
    const started = performance.now();
    const workers = [worker('w2-a'), worker('w2-b')];
    await drive({
      driver: {
        start: async (employeeId) => (await baton.instances.start('salary', { variables: { employeeId } }, ADMIN)).id,
        listTasks: async (limit) => (await baton.tasks.list({ offset: 0, limit }, MANAGER)).items,
        completeTask: (taskId) => baton.tasks.complete(taskId, { approved: true }, MANAGER),
      },
      total,
      slots,
      starters: CONCURRENCY,
      latencies,
      prefix: 'E',
    });
    while (slots.completed < total) await new Promise((resolve) => setTimeout(resolve, 2));
    const rate = total / ((performance.now() - started) / 1000);
    controller.abort();
    await Promise.all(workers);
    const done = await baton.store.findInstances({ status: 'completed', offset: 0, limit: 1 });
    if (done.total !== total) {
      const all = await baton.store.findInstances({ offset: 0, limit: total });
      const odd = all.items.filter((r) => r.status !== 'completed').map((r) => ({ status: r.status, tasks: r.userTasks.length, jobs: r.jobs.map((j) => j.topic), error: r.error }));
      throw new Error(`W2: ${done.total} of ${total} instances completed: ${JSON.stringify(odd)}`);
    }
    return rate;
  } finally {
    await baton.close();
  }
}

export async function w2(scale: number): Promise<WorkloadResult> {
  const total = scaled(200, scale, 20);
  // warm both paths up (JIT, definition parsed once) before measuring
  await bareRound(scaled(50, scale, 10));
  await batonRound(scaled(50, scale, 10), new Latencies());
  const bare: number[] = [];
  const baton: number[] = [];
  const latencies = new Latencies();
  for (let round = 1; round <= ROUNDS; round++) {
    bare.push(await bareRound(total));
    progress(`W2 round ${round}/${ROUNDS}: bare bpmn-engine ${round1(bare.at(-1))} instances/s`);
    baton.push(await batonRound(total, latencies));
    progress(`W2 round ${round}/${ROUNDS}: Baton in process, durable ${round1(baton.at(-1))} instances/s`);
  }
  const bareMedian = round(median(bare));
  const batonMedian = round(median(baton));
  const ratio = round(batonMedian / bareMedian, 2);
  return {
    metrics: { 'w2.bareEnginePerSecond': bareMedian, 'w2.batonPerSecond': batonMedian, 'w2.ratio': ratio },
    details: {
      instancesPerRound: total,
      concurrency: CONCURRENCY,
      rounds: { bareEnginePerSecond: bare.map(round1), batonPerSecond: baton.map(round1) },
      batonLatenciesMs: latencies.summary(),
    },
    chart: barChart(`W2: salary instances/s, bare bpmn-engine vs Baton (ratio ${ratio})`, 'instances per second (median of rounds)', [
      { label: 'bare bpmn-engine, in memory', value: bareMedian },
      { label: 'Baton services, durable SQLite', value: batonMedian },
    ]),
  };
}

const round1 = (value: number | undefined): number => round(value ?? 0);
