// `npm run fuzz`: the full fuzzing run (test/reliability/fuzz-run.ts). Settings from the environment:
// FUZZ_BPMN (default 5000 mutated files), FUZZ_BODIES (5000 random bodies), FUZZ_EXPRESSIONS (1000 random
// FEEL and JUEL expressions), FUZZ_VARIABLES (500 random variable payloads), FUZZ_SEED (random).
import { seedFrom } from '../test/helpers/prng.ts';
import { HEAP_MB, runFuzz } from '../test/reliability/fuzz-run.ts';

const options = {
  bpmnFiles: Number(process.env.FUZZ_BPMN ?? 5000),
  jsonBodies: Number(process.env.FUZZ_BODIES ?? 5000),
  expressions: Number(process.env.FUZZ_EXPRESSIONS ?? 1000),
  variables: Number(process.env.FUZZ_VARIABLES ?? 500),
  seed: seedFrom('FUZZ_SEED'),
  say: (line: string) => process.stdout.write(`${line}\n`),
};
process.stdout.write(`fuzz: ${options.bpmnFiles} mutated BPMN files, ${options.jsonBodies} random bodies, seed ${options.seed}\n`);
try {
  const figures = await runFuzz(options);
  process.stdout.write(`fuzz passed: ${JSON.stringify(figures)}\n`);
  process.exit(figures.rssAfterMB < figures.rssBeforeMB + HEAP_MB ? 0 : 1);
} catch (err) {
  process.stderr.write(`fuzz FAILED (seed ${options.seed}): ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}
