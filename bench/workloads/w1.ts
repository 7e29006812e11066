/**
 * W1, end to end: salary instances started over REST, worker processes completing the three
 * service topics over HTTP, a client approving over REST, embedded store. Several concurrencies,
 * with one Baton process and with two on the same SQLite store (both cores).
 */
import { concat, lineChart, barChart } from '../lib/chart.ts';
import type { WorkloadResult } from '../lib/results.ts';
import { progress, scaled } from '../lib/scale.ts';
import { runSalaryOverHttp, type SalaryRun } from './salary-http.ts';

export const W1_CONFIGS = [
  { servers: 1, concurrency: 10 },
  { servers: 1, concurrency: 25 },
  { servers: 1, concurrency: 50 },
  { servers: 2, concurrency: 50 },
];

/** The run a headline figure comes from: the faster of the 50-concurrency runs. */
export function headline(runs: SalaryRun[]): SalaryRun {
  const at50 = runs.filter((run) => run.concurrency === 50);
  return at50.reduce((best, run) => (run.completedPerSecond > best.completedPerSecond ? run : best), at50[0] ?? (runs[0] as SalaryRun));
}

/** Charts of a set of salary runs: throughput vs concurrency, and latency percentiles. */
export function salaryChart(title: string, runs: SalaryRun[], series: (run: SalaryRun) => string) {
  const best = headline(runs);
  return concat(title, [
    lineChart('Completed instances/s', 'concurrent instances', 'instances/s', runs.map((run) => ({ x: run.concurrency, value: run.completedPerSecond, series: series(run) }))),
    barChart(`Latency at ${best.concurrency} concurrent, ${best.servers} process(es)`, 'ms', Object.entries(best.latenciesMs).flatMap(([type, p]) =>
      (['p50', 'p95', 'p99'] as const).map((q) => ({ label: type, value: p[q], series: q })),
    )),
  ]);
}

export async function w1(scale: number): Promise<WorkloadResult> {
  const runs: SalaryRun[] = [];
  for (const config of W1_CONFIGS) {
    const label = `W1 ${config.servers} process(es), ${config.concurrency} concurrent`;
    const run = await runSalaryOverHttp({ ...config, instances: scaled(300, scale, 30), warmup: scaled(20, scale, 10), label });
    progress(`${label}: ${run.completedPerSecond} instances/s, task complete p99 ${run.latenciesMs['task complete']?.p99} ms, servers ${run.serverCpuCores} cores`);
    runs.push(run);
  }
  const best = headline(runs);
  return {
    metrics: {
      'w1.completedPerSecond': best.completedPerSecond,
      'w1.taskCompleteP99Ms': best.latenciesMs['task complete']?.p99 ?? 0,
      'w1.servers': best.servers,
      'w1.serverCpuMsPerInstance': best.serverCpuMsPerInstance,
      'w1.serverPeakRssMB': Math.max(...best.serverPeakRssMB),
    },
    details: { headline: `the faster of the runs at 50 concurrent instances (${best.servers} process(es))`, runs },
    chart: salaryChart('W1: salary end to end over HTTP, embedded store', runs, (run) => `${run.servers} Baton process${run.servers > 1 ? 'es' : ''}`),
  };
}
