/**
 * W5, MongoDB: W1's salary end to end and W3's waiting instances with MONGODB_URI on FerretDB
 * (a MongoDB-compatible server on SQLite), beside the embedded store at the same, smaller scale.
 */
import { createMongoStore } from '../../server/store/mongodb/index.ts';
import { startFerretDb } from '../../test/helpers/ferretdb.ts';
import { makeDataDir, removeDataDir } from '../../test/helpers/server-process.ts';
import { barChart, concat } from '../lib/chart.ts';
import { rssMB } from '../lib/proc.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { seedWaiting } from '../lib/seed.ts';
import { startServers } from '../lib/servers.ts';
import { runSalaryOverHttp, type SalaryRun } from './salary-http.ts';
import { measureQueries, sampleIds } from './w3.ts';
import { Latencies, type Percentiles } from '../lib/stats.ts';

interface WaitingRun {
  instances: number;
  seedSeconds: number;
  rssMB: number;
  latenciesMs: Record<string, Percentiles>;
}

/** Seeds `count` waiting instances, starts a server on them and measures RSS and queries. */
async function waitingRun(count: number, samples: number, env: Record<string, string>, mongoUri?: string): Promise<WaitingRun> {
  const dataDir = makeDataDir();
  try {
    const store = mongoUri ? await createMongoStore(mongoUri) : undefined;
    const seed = await seedWaiting(dataDir, count, 20, store);
    const ids = mongoUri ? await mongoIds(mongoUri, samples) : await sampleIds(dataDir, count, 100);
    const [server] = await startServers(1, dataDir, env);
    if (!server) throw new Error('W5: no server');
    try {
      await measureQueries(server.url, ids, 30);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const rss = rssMB(server.pid);
      const latencies: Latencies = await measureQueries(server.url, ids, samples);
      return { instances: count, seedSeconds: Math.round(seed.seconds), rssMB: rss, latenciesMs: latencies.summary() };
    } finally {
      await server.stop();
    }
  } finally {
    removeDataDir(dataDir);
  }
}

async function mongoIds(uri: string, count: number): Promise<string[]> {
  const store = await createMongoStore(uri);
  try {
    return (await store.findInstances({ offset: 0, limit: count })).items.map((record) => record.id);
  } finally {
    await store.close();
  }
}

export async function w5(scale: number): Promise<WorkloadResult> {
  const ferret = await startFerretDb();
  if (!ferret) throw new Error('W5 needs FerretDB: set FERRETDB_BIN (see test/helpers/ferretdb.ts)');
  try {
    const instances = scaled(100, scale, 20);
    const waiting = scaled(1000, scale, 300);
    const salary: SalaryRun[] = [];
    const stores = [
      { name: 'embedded (SQLite)', uri: undefined as string | undefined },
      { name: 'MongoDB API (FerretDB 1.24 on SQLite)', uri: `${ferret.uri}w5salary` },
    ];
    for (const store of stores) {
      for (const concurrency of [10, 50]) {
        const label = `W5 ${store.name}, ${concurrency} concurrent`;
        // a fresh database per run, as the embedded store gets a fresh directory
        const env: Record<string, string> = store.uri ? { MONGODB_URI: `${store.uri}${concurrency}` } : {};
        const run = await runSalaryOverHttp({ servers: 1, concurrency, instances, warmup: scaled(10, scale, 5), env, label });
        progress(`${label}: ${run.completedPerSecond} instances/s, task complete p99 ${run.latenciesMs['task complete']?.p99} ms`);
        salary.push(run);
      }
    }
    const waitingRuns: WaitingRun[] = [];
    for (const store of stores) {
      progress(`W5 ${store.name}: seeding ${waiting} waiting instances`);
      const uri = store.uri ? `${store.uri}waiting` : undefined;
      waitingRuns.push(await waitingRun(waiting, scaled(50, scale, 20), uri ? { MONGODB_URI: uri } : {}, uri));
      progress(`W5 ${store.name}: RSS ${waitingRuns.at(-1)?.rssMB} MB, task list p99 ${waitingRuns.at(-1)?.latenciesMs['task list, first page (50)']?.p99} ms`);
    }
    const [sqliteSalary, mongoSalary] = [salary.filter((_, i) => i < 2), salary.filter((_, i) => i >= 2)];
    const at50 = (runs: SalaryRun[]): SalaryRun => runs.find((run) => run.concurrency === 50) as SalaryRun;
    const [sqliteWaiting, mongoWaiting] = waitingRuns as [WaitingRun, WaitingRun];
    return {
      metrics: {
        'w5.embeddedCompletedPerSecond': at50(sqliteSalary).completedPerSecond,
        'w5.mongoCompletedPerSecond': at50(mongoSalary).completedPerSecond,
        'w5.mongoTaskCompleteP99Ms': at50(mongoSalary).latenciesMs['task complete']?.p99 ?? 0,
        'w5.embeddedRssMB': sqliteWaiting.rssMB,
        'w5.mongoRssMB': mongoWaiting.rssMB,
        'w5.mongoTaskListP99Ms': mongoWaiting.latenciesMs['task list, first page (50)']?.p99 ?? 0,
        'w5.embeddedTaskListP99Ms': sqliteWaiting.latenciesMs['task list, first page (50)']?.p99 ?? 0,
      },
      details: {
        scale: `salary: ${instances} instances per run at 10 and 50 concurrent, one Baton process; waiting: ${waiting} instances`,
        salary: salary.map((run, i) => ({ store: (stores[i < 2 ? 0 : 1] as (typeof stores)[number]).name, ...run })),
        waiting: waitingRuns.map((run, i) => ({ store: (stores[i] as (typeof stores)[number]).name, ...run })),
      },
      chart: concat('W5: embedded store vs MongoDB API (FerretDB)', [
        barChart('Salary end to end, 50 concurrent', 'instances/s', [
          { label: 'embedded (SQLite)', value: at50(sqliteSalary).completedPerSecond },
          { label: 'FerretDB', value: at50(mongoSalary).completedPerSecond },
        ]),
        barChart(`${waiting} waiting: task list p50/p99`, 'ms', [
          { label: 'embedded (SQLite)', value: sqliteWaiting.latenciesMs['task list, first page (50)']?.p50 ?? 0, series: 'p50' },
          { label: 'embedded (SQLite)', value: sqliteWaiting.latenciesMs['task list, first page (50)']?.p99 ?? 0, series: 'p99' },
          { label: 'FerretDB', value: mongoWaiting.latenciesMs['task list, first page (50)']?.p50 ?? 0, series: 'p50' },
          { label: 'FerretDB', value: mongoWaiting.latenciesMs['task list, first page (50)']?.p99 ?? 0, series: 'p99' },
        ]),
      ]),
    };
  } finally {
    await ferret.stop();
  }
}
