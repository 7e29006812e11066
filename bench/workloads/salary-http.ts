/**
 * The salary workload end to end over HTTP (W1, and W5 on MongoDB): Baton server processes,
 * worker processes doing fetch-and-lock and complete, and this process as the client that starts
 * instances and approves them. Measures completed instances/s, latency per request type, and the
 * servers' CPU and peak RSS.
 */
import { makeDataDir, removeDataDir, type ServerProcess } from '../../test/helpers/server-process.ts';
import { httpClient, type HttpClient } from '../lib/http.ts';
import { Slots, drive, type Driver } from '../lib/pipeline.ts';
import { cpuSeconds, watchMemory } from '../lib/proc.ts';
import { deploySalary, startServers, startWorkers } from '../lib/servers.ts';
import { progress } from '../lib/scale.ts';
import { Latencies, round, type Percentiles } from '../lib/stats.ts';

/** One measured configuration. */
export interface SalaryRun {
  servers: number;
  concurrency: number;
  instances: number;
  completedPerSecond: number;
  latenciesMs: Record<string, Percentiles>;
  /** CPU seconds of all servers per second of wall time (2.0 = both cores busy) */
  serverCpuCores: number;
  serverCpuMsPerInstance: number;
  serverPeakRssMB: number[];
  workerErrors: number;
}

/** An HTTP driver that spreads calls over the servers round robin. */
function httpDriver(urls: string[]): Driver {
  const admins = urls.map((url) => httpClient(url, 'demo', 'demo'));
  const managers = urls.map((url) => httpClient(url, 'mary', 'mary'));
  let turn = 0;
  const next = (clients: HttpClient[]): HttpClient => clients[turn++ % clients.length] as HttpClient;
  return {
    start: async (employeeId) =>
      (await next(admins).post<{ id: string }>('/api/processes/salary/instances', { variables: { employeeId } })).id,
    listTasks: async (limit) => (await next(managers).get<{ items: { id: string; instanceId: string }[] }>(`/api/tasks?limit=${limit}`)).items,
    completeTask: async (taskId) => {
      await next(managers).post(`/api/tasks/${taskId}/complete`, { variables: { approved: true } });
    },
  };
}

/** Runs `instances` salary instances at a concurrency on fresh servers; `env` picks the store. */
export async function runSalaryOverHttp(input: {
  servers: number;
  concurrency: number;
  instances: number;
  warmup: number;
  env?: Record<string, string>;
  label: string;
}): Promise<SalaryRun> {
  const dataDir = makeDataDir();
  let servers: ServerProcess[] = [];
  try {
    servers = await startServers(input.servers, dataDir, input.env);
    const urls = servers.map((server) => server.url);
    await deploySalary(urls[0] as string);
    let slots = new Slots(input.concurrency);
    const workers = startWorkers(2, urls, () => slots.release());
    const driver = httpDriver(urls);
    await drive({ driver, total: input.warmup, slots, starters: input.concurrency, latencies: new Latencies(), prefix: 'warm' });
    while (slots.completed < input.warmup) await new Promise((resolve) => setTimeout(resolve, 5));

    slots = new Slots(input.concurrency);
    const latencies = new Latencies();
    const pids = servers.map((server) => server.pid);
    const memory = watchMemory(pids);
    const cpuBefore = pids.map(cpuSeconds);
    const started = performance.now();
    const ticker = setInterval(() => progress(`${input.label}: ${slots.completed}/${input.instances} completed`), 10_000);
    await drive({ driver, total: input.instances, slots, starters: input.concurrency, latencies, prefix: 'E' });
    while (slots.completed < input.instances) await new Promise((resolve) => setTimeout(resolve, 2));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(ticker);
    const cpu = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - (cpuBefore[i] as number), 0);
    const peaks = memory.stop();
    let workerErrors = 0;
    for (const worker of workers) {
      const report = await worker.stop();
      latencies.merge(report.samples);
      workerErrors += report.errors;
    }
    const check = await httpClient(urls[0] as string, 'demo', 'demo').get<{ total: number }>('/api/instances?status=completed&limit=1');
    if (check.total !== input.instances + input.warmup) {
      throw new Error(`${input.label}: ${check.total} instances completed, expected ${input.instances + input.warmup}`);
    }
    return {
      servers: input.servers,
      concurrency: input.concurrency,
      instances: input.instances,
      completedPerSecond: round(input.instances / seconds),
      latenciesMs: latencies.summary(),
      serverCpuCores: round(cpu / seconds, 2),
      serverCpuMsPerInstance: round((cpu * 1000) / input.instances),
      serverPeakRssMB: pids.map((pid) => peaks.get(pid) ?? 0),
      workerErrors,
    };
  } finally {
    for (const server of servers) await server.stop();
    removeDataDir(dataDir);
  }
}
