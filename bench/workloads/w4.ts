/**
 * W4, restart: W3's data plus 1,000 instances whose reminder timer fell due while no server ran.
 * A fresh server process: time from its start to GET /health ok, and until every due timer fired.
 * Beside it, in the same run, bare bpmn-engine fires as many reminders in this process (recover,
 * resume, run until "Remind managers" waits, serialize): the foundation's own floor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createSqliteStore } from '../../server/store/sqlite/index.ts';
import { barChart } from '../lib/chart.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { copyInstances, templatesOf } from '../lib/seed.ts';
import { startServers } from '../lib/servers.ts';
import { round } from '../lib/stats.ts';
import { bareWaitingState, fireBareReminder } from './bare-engine.ts';
import { waitingData } from './waiting.ts';

const SALARY_XML = fs.readFileSync(path.join(import.meta.dirname, '../../processes/salary/salary.bpmn'), 'utf8');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** ms bare bpmn-engine takes to fire `count` due reminders, one instance after another, after a warm-up */
async function bareEngineTimersMs(count: number): Promise<number> {
  const waiting = await bareWaitingState(SALARY_XML);
  for (let i = 0; i < 20; i++) await fireBareReminder(SALARY_XML, waiting);
  const started = performance.now();
  for (let i = 0; i < count; i++) await fireBareReminder(SALARY_XML, waiting);
  return performance.now() - started;
}

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
      await server.stop();
      const bareMs = await bareEngineTimersMs(due);
      progress(`W4: bare bpmn-engine fired ${due} reminders in ${Math.round(bareMs)} ms`);
      return {
        metrics: {
          'w4.healthyMs': Math.round(healthyMs),
          'w4.timersFiredMs': Math.round(firedMs),
          'w4.bareEngineTimersMs': Math.round(bareMs),
          'w4.dueTimers': due,
          'w4.waitingInstances': data.instances + due,
        },
        details: {
          timersPerSecondAfterHealthy: round(due / ((firedMs - healthyMs) / 1000)),
          bareEngineTimersPerSecond: round(due / (bareMs / 1000)),
          note: 'from spawning `node --import tsx server/main.ts` (health polled every 50 ms); timers counted fired when no instance has a due timer and each has its reminder job. bareEngineTimersMs: bare bpmn-engine in the bench process, after the server stopped, firing as many reminders one instance after another (recover, resume, run until "Remind managers" waits, serialize the state), no store',
        },
        chart: barChart(`W4: restart with ${data.instances + due} instances, ${due} timers due`, 'ms (Baton: from process start)', [
          { label: 'Baton: /health ok', value: Math.round(healthyMs) },
          { label: 'Baton: every due timer fired', value: Math.round(firedMs) },
          { label: 'bare bpmn-engine: as many fired', value: Math.round(bareMs) },
        ]),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await store.close();
  }
}
