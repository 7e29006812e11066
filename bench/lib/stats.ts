/** Latency samples in milliseconds and their percentiles. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of samples (ms), rounded to 0.1 ms. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => {
    if (!sorted.length) return 0;
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return round(sorted[index] as number);
  };
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds to one decimal. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Collects latencies by request type. */
export class Latencies {
  readonly samples = new Map<string, number[]>();

  /** times an async call and files its duration under `type` */
  async time<T>(type: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      this.add(type, performance.now() - started);
    }
  }

  add(type: string, ms: number): void {
    let list = this.samples.get(type);
    if (!list) this.samples.set(type, (list = []));
    list.push(ms);
  }

  /** merges samples of another collector (or of a worker process) */
  merge(samples: Record<string, number[]>): void {
    for (const [type, list] of Object.entries(samples)) for (const ms of list) this.add(type, ms);
  }

  summary(): Record<string, Percentiles> {
    return Object.fromEntries([...this.samples].map(([type, list]) => [type, percentiles(list)]));
  }
}
