/**
 * `npm run bench` runs every workload; `npm run bench -- w1 w3` runs some. BENCH_SCALE=0.1 runs
 * them at a tenth of their size. Each writes bench/results/<workload>.json and .svg; a table of
 * the headline figures ends the run.
 */
import { writeResult, type WorkloadResult } from './lib/results.ts';
import { benchScale, progress } from './lib/scale.ts';
import { w1 } from './workloads/w1.ts';
import { w2 } from './workloads/w2.ts';
import { w3 } from './workloads/w3.ts';
import { w4 } from './workloads/w4.ts';
import { w5 } from './workloads/w5.ts';

const WORKLOADS: Record<string, (scale: number) => Promise<WorkloadResult>> = { w1, w2, w3, w4, w5 };

async function main(): Promise<void> {
  const scale = benchScale();
  const asked = process.argv.slice(2).map((name) => name.toLowerCase());
  const unknown = asked.filter((name) => !WORKLOADS[name]);
  if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; choose from ${Object.keys(WORKLOADS).join(', ')}`);
  const names = asked.length ? asked : Object.keys(WORKLOADS);
  const rows: [string, string, number][] = [];
  for (const name of names) {
    const startedAt = new Date();
    progress(`${name.toUpperCase()} starts (scale ${scale})`);
    const result = await (WORKLOADS[name] as (scale: number) => Promise<WorkloadResult>)(scale);
    const files = await writeResult(name, scale, result, startedAt);
    progress(`${name.toUpperCase()} done in ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s: ${files.join(', ')}`);
    for (const [metric, value] of Object.entries(result.metrics)) rows.push([name, metric, value]);
  }
  const width = Math.max(...rows.map(([, metric]) => metric.length));
  process.stdout.write(`\n${'metric'.padEnd(width)}  value\n${'-'.repeat(width)}  -----\n`);
  for (const [, metric, value] of rows) process.stdout.write(`${metric.padEnd(width)}  ${value}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
