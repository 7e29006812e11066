/**
 * W3, waiting instances: a fresh Baton process on a store holding 100,000 instances waiting at
 * "Approve bonus". Server RSS after warm-up, store size on disk, and the latency of the managers'
 * first task-list page (50) and of an instance lookup.
 */
import { createSqliteStore } from '../../server/store/sqlite/index.ts';
import { barChart, concat } from '../lib/chart.ts';
import { httpClient } from '../lib/http.ts';
import { directoryMB, rssMB } from '../lib/proc.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { deploySalary, startServers } from '../lib/servers.ts';
import { makeDataDir, removeDataDir } from '../../test/helpers/server-process.ts';
import { Latencies, round } from '../lib/stats.ts';
import { waitingData } from './waiting.ts';

/** ~566 KB of heap per idle bpmn-engine at a user task (DESIGN.md, measured on bpmn-engine 25) */
const BARE_ENGINE_KB_PER_WAITING = 566;

/** Ids spread over the whole store, for lookups. */
export async function sampleIds(dataDir: string, total: number, count: number): Promise<string[]> {
  const store = createSqliteStore(dataDir);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const page = await store.findInstances({ offset: Math.floor((i * total) / count), limit: 1 });
      if (page.items[0]) ids.push(page.items[0].id);
    }
    return ids;
  } finally {
    await store.close();
  }
}

/** Measures the task list and instance lookups of a running server. */
export async function measureQueries(url: string, ids: string[], samples: number): Promise<Latencies> {
  const manager = httpClient(url, 'mary', 'mary');
  const admin = httpClient(url, 'demo', 'demo');
  const latencies = new Latencies();
  for (let i = 0; i < samples; i++) {
    const page = await latencies.time('task list, first page (50)', () => manager.get<{ items: unknown[]; total: number }>('/api/tasks?limit=50'));
    if (page.items.length !== 50) throw new Error(`task list: ${page.items.length} tasks on the first page`);
    await latencies.time('instance lookup', () => admin.get(`/api/instances/${ids[i % ids.length]}`));
  }
  return latencies;
}

/** RSS of a fresh server on an empty store with the salary process, after a few requests. */
async function emptyServerRss(): Promise<number> {
  const dataDir = makeDataDir();
  const [server] = await startServers(1, dataDir);
  try {
    if (!server) throw new Error('W3: no server');
    await deploySalary(server.url);
    const manager = httpClient(server.url, 'mary', 'mary');
    for (let i = 0; i < 50; i++) await manager.get('/api/tasks?limit=50');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return rssMB(server.pid);
  } finally {
    await server?.stop();
    removeDataDir(dataDir);
  }
}

export async function w3(scale: number): Promise<WorkloadResult> {
  const emptyRss = await emptyServerRss();
  progress(`W3: server RSS on an empty store ${emptyRss} MB`);
  const data = await waitingData(scale);
  const ids = await sampleIds(data.dataDir, data.instances, 200);
  const storeMB = directoryMB(data.dataDir);
  const [server] = await startServers(1, data.dataDir);
  if (!server) throw new Error('W3: no server');
  try {
    progress('W3: warming up');
    await measureQueries(server.url, ids, scaled(100, scale, 30));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rss = rssMB(server.pid);
    progress(`W3: server RSS ${rss} MB with ${data.instances} waiting instances; measuring queries`);
    const latencies = await measureQueries(server.url, ids, scaled(500, scale, 100));
    const rssAfter = rssMB(server.pid);
    const summary = latencies.summary();
    const taskList = summary['task list, first page (50)'];
    const lookup = summary['instance lookup'];
    return {
      metrics: {
        'w3.waitingInstances': data.instances,
        'w3.rssMB': rss,
        'w3.emptyStoreRssMB': emptyRss,
        'w3.storeMB': storeMB,
        'w3.taskListP50Ms': taskList?.p50 ?? 0,
        'w3.taskListP99Ms': taskList?.p99 ?? 0,
        'w3.lookupP50Ms': lookup?.p50 ?? 0,
        'w3.lookupP99Ms': lookup?.p99 ?? 0,
      },
      details: {
        seed: data.seed,
        rssAfterQueriesMB: rssAfter,
        latenciesMs: summary,
        bareEngineEstimateMB: round((data.instances * BARE_ENGINE_KB_PER_WAITING) / 1024),
        note: 'RSS of a fresh server process on the data after a warm-up; bare-engine estimate: 566 KB of heap per idle engine (DESIGN.md)',
      },
      chart: concat(`W3: ${data.instances} instances waiting at "Approve bonus"`, [
        barChart(`Server RSS (store on disk: ${storeMB} MB)`, 'MB', [
          { label: 'Baton server, empty store', value: emptyRss },
          { label: `Baton server, ${data.instances} waiting`, value: rss },
        ]),
        barChart('Latency', 'ms', Object.entries(summary).flatMap(([type, p]) => (['p50', 'p95', 'p99'] as const).map((q) => ({ label: type, value: p[q], series: q })))),
      ]),
    };
  } finally {
    await server.stop();
  }
}
