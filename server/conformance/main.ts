import fs from 'node:fs';
import { runSuite, summarize } from './suite.ts';

/**
 * `npm run conformance -- DIR [--json FILE] [--concurrency N] [--only NAME] [--group GROUP|execution]`: runs a directory in
 * betsy's format against Baton, prints a table per group and every failure with its traces.
 */

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
};
const jsonFile = option('--json');
const concurrency = Number(option('--concurrency') ?? 4);
const only = option('--only');
const group = option('--group');
const dir = args[0];
if (!dir) {
  console.error('usage: npm run conformance -- DIR [--json FILE] [--concurrency N] [--only NAME] [--group GROUP|execution]');
  process.exit(2);
}

const started = Date.now();
const results = await runSuite(dir, {
  concurrency,
  filter: (test) => (!only || test.name.includes(only)) && (!group || test.group === group || (group === 'execution' && test.group !== 'bpmn_constraints')),
  onTest: (result, done, total) => process.stderr.write(`\r${done}/${total} ${result.passed ? 'pass' : 'FAIL'} ${result.name}`.padEnd(100)),
});
process.stderr.write('\n');
const summary = summarize(results);

const rows = Object.entries(summary.groups).map(([group, { tests, passed }]) => [group, String(tests), String(passed)]);
rows.push(['total', String(summary.total.tests), String(summary.total.passed)]);
const width = Math.max(...rows.map((row) => row[0]?.length ?? 0), 5);
console.log(`${'group'.padEnd(width)}  tests  passed`);
for (const [group, tests, passed] of rows) console.log(`${String(group).padEnd(width)}  ${String(tests).padStart(5)}  ${String(passed).padStart(6)}`);
if (summary.failures.length) console.log('\nfailures:');
for (const failure of summary.failures) {
  console.log(`- ${failure.group}/${failure.test} case ${failure.case}`);
  console.log(`    expected: ${JSON.stringify([...failure.expected].sort())}`);
  console.log(`    actual:   ${JSON.stringify([...failure.actual].sort())}`);
  if (failure.detail) console.log(`    detail:   ${failure.detail}`);
}
console.log(`\n${summary.total.passed}/${summary.total.tests} tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (jsonFile) fs.writeFileSync(jsonFile, `${JSON.stringify(summary, null, 2)}\n`);
