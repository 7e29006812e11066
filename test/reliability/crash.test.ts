/**
 * The crash test in a short setting for `npm test`; `npm run crash-test` runs the full one.
 * CRASH_SEED replays a failure.
 */
import { runCrashTest } from './crash-run.ts';

const INSTANCES = Number(process.env.CRASH_INSTANCES ?? 40);
const KILLS = Number(process.env.CRASH_KILLS ?? 5);

Feature('SIGKILL at random moments loses nothing', () => {
  Scenario(`${INSTANCES} salary runs under load, the server killed ${KILLS} times and restarted on the same data`, () => {
    Then('every run ends at exactly one end event, nothing is done twice, every history is complete', async function (this: Mocha.Context) {
      this.timeout(180_000);
      const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const figures = await runCrashTest({ instances: INSTANCES, kills: KILLS, seed, timeoutMs: 150_000 });
      process.stdout.write(`      crash figures: ${JSON.stringify(figures)}\n`);
    });
  });
});
