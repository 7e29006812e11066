import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './chart.ts';
import { machine } from './machine.ts';

export const RESULTS_DIR = path.join(import.meta.dirname, '..', 'results');

/** What a workload reports: headline figures (flat, numbers) and details for the README and chart. */
export interface WorkloadResult {
  /** headline figures, named `<workload>.<figure>` */
  metrics: Record<string, number>;
  /** everything else worth keeping: per-concurrency runs, latencies per request type, settings */
  details: Record<string, unknown>;
  /** the chart of this workload */
  chart: TopLevelSpec;
}

/** Writes bench/results/<name>.json and <name>.svg; returns their paths. */
export async function writeResult(name: string, scale: number, result: WorkloadResult, startedAt: Date): Promise<string[]> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const json = path.join(RESULTS_DIR, `${name}.json`);
  const svg = path.join(RESULTS_DIR, `${name}.svg`);
  const body = {
    workload: name,
    scale,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    metrics: result.metrics,
    details: result.details,
  };
  fs.writeFileSync(json, `${JSON.stringify(body, null, 2)}\n`);
  fs.writeFileSync(svg, await renderSvg(result.chart));
  return [json, svg];
}
