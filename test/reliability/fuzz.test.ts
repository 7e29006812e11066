/**
 * Fuzzing in a short setting for `npm test`; `npm run fuzz` runs thousands. FUZZ_SEED replays a failure.
 */
import assert from 'node:assert/strict';
import { seedFrom } from '../helpers/prng.ts';
import { HEAP_MB, runFuzz } from './fuzz-run.ts';

const FILES = Number(process.env.FUZZ_BPMN ?? 400);
const BODIES = Number(process.env.FUZZ_BODIES ?? 1000);
const EXPRESSIONS = Number(process.env.FUZZ_EXPRESSIONS ?? 60);
const VARIABLES = Number(process.env.FUZZ_VARIABLES ?? 40);

Feature('Fuzzing: mutated BPMN files and random JSON bodies', () => {
  Scenario(`${FILES} mutated BPMN files, ${BODIES} random bodies to every endpoint, ${EXPRESSIONS} random FEEL and JUEL expressions and ${VARIABLES} random variable payloads`, () => {
    Then('the server never crashes, never answers 5xx, and its memory stays bounded', async function (this: Mocha.Context) {
      this.timeout(240_000);
      const figures = await runFuzz({ bpmnFiles: FILES, jsonBodies: BODIES, expressions: EXPRESSIONS, variables: VARIABLES, seed: seedFrom('FUZZ_SEED') });
      process.stdout.write(`      fuzz figures: ${JSON.stringify(figures)}\n`);
      assert.ok(figures.deployed > 0, 'some mutations were still valid BPMN and ran');
      // the server ran with its heap capped at HEAP_MB (a leak would have ended it); its RSS stays within cap and start
      assert.ok(figures.rssAfterMB < figures.rssBeforeMB + HEAP_MB, `RSS grew from ${figures.rssBeforeMB} to ${figures.rssAfterMB} MB`);
    });
  });
});
