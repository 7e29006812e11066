// `npm run crash-test`: the full crash test (test/reliability/crash-run.ts). Settings from the
// environment: CRASH_INSTANCES (default 300), CRASH_KILLS (25), CRASH_SEED (random), CRASH_TIMEOUT_S (900).
import { runCrashTest } from '../test/reliability/crash-run.ts';

const number = (name: string, fallback: number): number => (process.env[name] ? Number(process.env[name]) : fallback);
const options = {
  instances: number('CRASH_INSTANCES', 300),
  kills: number('CRASH_KILLS', 25),
  seed: number('CRASH_SEED', Math.floor(Math.random() * 2 ** 31)),
  timeoutMs: number('CRASH_TIMEOUT_S', 900) * 1000,
  say: (line: string) => process.stdout.write(`${line}\n`),
};
process.stdout.write(`crash test: ${options.instances} salary runs, ${options.kills} SIGKILLs, seed ${options.seed}\n`);
try {
  const figures = await runCrashTest(options);
  process.stdout.write(`crash test passed: ${JSON.stringify(figures)}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`crash test FAILED (seed ${options.seed}): ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}
