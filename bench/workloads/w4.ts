/**
 * W4, restart: W3's data plus 1,000 instances whose reminder timer fell due while no server ran.
 * A fresh server process: time from its start to GET /health ok, and until every due timer fired.
 */
import { createSqliteStore } from '../../server/store/sqlite/index.ts';
import { barChart } from '../lib/chart.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { copyInstances, templatesOf } from '../lib/seed.ts';
import { startServers } from '../lib/servers.ts';
import { round } from '../lib/stats.ts';
import { waitingData } from './waiting.ts';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function w4(scale: number): Promise<WorkloadResult> {
  const data = await waitingData(scale);
  const due = scaled(1000, scale, 100);
  const store = createSqliteStore(data.dataDir);
  try {
    // written while no server runs: their "2 days passed" timer fell due a minute ago
    await copyInstances(store, await templatesOf(store, 20), due, new Date(Date.now() - 60_000).toISOString());
    progress(`W4: ${due} instances with a due timer added to ${data.instances} waiting; starting a server`);
    const started = performance.now();
    const [server] = await startServers(1, data.dataDir);
    if (!server) throw new Error('W4: no server');
    const healthyMs = performance.now() - started;
    try {
      let left = due;
      while (left > 0) {
        left = (await store.findDueInstances(new Date().toISOString(), due + 1)).length;
        if (performance.now() - started > 300_000) throw new Error(`W4: ${left} timers still due after 5 minutes`);
        if (left) await pause(20);
      }
      const firedMs = performance.now() - started;
      const reminders = await store.findLockableJobs(['notify.email'], new Date().toISOString(), due * 2);
      if (reminders.length < due) throw new Error(`W4: ${reminders.length} reminders for ${due} fired timers`);
      progress(`W4: healthy after ${Math.round(healthyMs)} ms, ${due} timers fired after ${Math.round(firedMs)} ms`);
      return {
        metrics: {
          'w4.healthyMs': Math.round(healthyMs),
          'w4.timersFiredMs': Math.round(firedMs),
          'w4.dueTimers': due,
          'w4.waitingInstances': data.instances + due,
        },
        details: {
          timersPerSecondAfterHealthy: round(due / ((firedMs - healthyMs) / 1000)),
          note: 'from spawning `node --import tsx server/main.ts` (health polled every 50 ms); timers counted fired when no instance has a due timer and each has its reminder job',
        },
        chart: barChart(`W4: restart with ${data.instances + due} instances, ${due} timers due`, 'ms from process start', [
          { label: '/health ok', value: Math.round(healthyMs) },
          { label: 'every due timer fired', value: Math.round(firedMs) },
        ]),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await store.close();
  }
}
