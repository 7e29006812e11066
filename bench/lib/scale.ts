/** BENCH_SCALE: 1 runs every workload at full size, 0.1 at a tenth for a quick look. */
export function benchScale(): number {
  const raw = process.env.BENCH_SCALE;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 10) throw new Error(`BENCH_SCALE must be a number in (0, 10], got "${raw}"`);
  return value;
}

/** A size scaled, never below `min`. */
export function scaled(size: number, scale: number, min = 1): number {
  return Math.max(min, Math.round(size * scale));
}

/** Prints one line of progress to stderr. */
export function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
