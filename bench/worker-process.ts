/**
 * A worker process for W1 and W5: fetches and locks the salary topics over HTTP from the Baton
 * URLs it is given (round robin) and completes each task at once with its answer, as a
 * customer's worker would. Tells its parent (IPC) when it completed an instance's last task, and
 * on "stop" sends its latency samples and exits.
 */
import { HttpError, httpClient } from './lib/http.ts';
import { ANSWERS, FINAL_TOPIC, SALARY_TOPICS, type Locked } from './lib/pipeline.ts';
import { Latencies } from './lib/stats.ts';

const urls = (process.env.BENCH_BATON_URLS ?? '').split(',').filter(Boolean);
const workerId = process.env.BENCH_WORKER_ID ?? `bench-${process.pid}`;
const loops = Number(process.env.BENCH_WORKER_LOOPS ?? '2');
if (!urls.length || !process.send) throw new Error('worker-process: BENCH_BATON_URLS and an IPC channel are needed');

const clients = urls.map((url) => httpClient(url, 'worker', 'worker'));
const latencies = new Latencies();
let stopping = false;
let errors = 0;

async function loop(index: number): Promise<void> {
  let turn = index;
  while (!stopping) {
    const client = clients[turn++ % clients.length] as (typeof clients)[number];
    const tasks = await latencies.time('fetch-and-lock', () =>
      client.post<Locked[]>('/api/external-tasks/fetch-and-lock', {
        workerId,
        maxTasks: 10,
        topics: SALARY_TOPICS.map((topicName) => ({ topicName, lockDuration: 60_000 })),
        asyncResponseTimeout: 1000,
      }),
    );
    await Promise.all(
      tasks.map(async (task) => {
        try {
          await latencies.time('external task complete', () =>
            client.post(`/api/external-tasks/${task.id}/complete`, { workerId, variables: ANSWERS[task.topicName] ?? {} }),
          );
          if (task.topicName === FINAL_TOPIC) process.send?.({ done: task.instanceId });
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          errors++;
        }
      }),
    );
  }
}

process.on('message', (message: { stop?: boolean }) => {
  if (message.stop) stopping = true;
});
await Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
process.send({ samples: Object.fromEntries(latencies.samples), errors }, () => process.exit(0));
