/**
 * `npm run import-report -- DIR [--json FILE]`: reads every .bpmn file under DIR as a deployment
 * would and prints, per file, its processes, what Baton executes and what not and why, and
 * whether the file is refused; a refused file is read again as a view-only deployment reads it,
 * to tell whether it can be deployed for viewing. Then totals. Exits non-zero only when reading a
 * file crashed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileReport, reasonOf, type FileReport, type ProcessReport } from '../server/engine/import/report.ts';
import { readForDeployment } from '../server/engine/import/view-only.ts';
import { NO_SCRIPTS } from '../server/engine/scripts.ts';

/** a file's report as is; `viewable` when it deploys as is or with view-only, and then how */
type Viewable = FileReport & { viewable: boolean; forViewing?: ProcessReport[] };
type Entry = Viewable | { file: string; crashed: string };

function bpmnFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return bpmnFiles(full);
      return entry.isFile() && /\.bpmn$/i.test(entry.name) ? [full] : [];
    });
}

const count = (map: Record<string, number>, key: string): void => {
  map[key] = (map[key] ?? 0) + 1;
};

function print(entry: Entry, index: number, total: number): void {
  const head = `[${index}/${total}] ${entry.file}`;
  if ('crashed' in entry) return console.log(`${head}\n  CRASHED: ${entry.crashed}`);
  const state = entry.deployable
    ? entry.executable
      ? 'deployable, executable'
      : 'deployable for viewing'
    : entry.viewable
      ? 'REFUSED as is, deployable with view-only'
      : 'REFUSED, even with view-only';
  console.log(`${head}: ${state}`);
  for (const problem of entry.problems) console.log(`  refused: ${problem.path ? `<${problem.path}> ` : ''}${problem.message}`);
  for (const process of entry.forViewing ?? entry.processes) {
    console.log(`  process <${process.key}>${process.name !== process.key ? ` "${process.name}"` : ''}: ${process.runs ? 'executes' : 'viewing only'}`);
    for (const reason of process.notExecuted) console.log(`    not executed: ${reason}`);
  }
  for (const note of entry.displayOnly) console.log(`  display only: ${note}`);
  if (entry.warnings.length) console.log(`  ${entry.warnings.length} reader warning(s), e.g. ${entry.warnings[0]?.message}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const dir = args.find((arg, i) => !arg.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
  if (!dir || (jsonAt >= 0 && !jsonFile)) {
    console.error('usage: npm run import-report -- DIR [--json FILE]');
    process.exit(2);
  }
  const files = bpmnFiles(dir);
  const entries: Entry[] = [];
  const refused: Record<string, number> = {};
  const notExecuted: Record<string, number> = {};
  for (const [index, file] of files.entries()) {
    const name = path.relative(dir, file);
    let entry: Entry;
    try {
      const xml = fs.readFileSync(file, 'utf8');
      const parsed = await readForDeployment(xml, NO_SCRIPTS, false);
      const report = fileReport(name, parsed);
      const viewing = report.deployable ? null : fileReport(name, await readForDeployment(xml, NO_SCRIPTS, true));
      entry = { ...report, viewable: report.deployable || !!viewing?.deployable, ...(viewing?.deployable ? { forViewing: viewing.processes } : {}) };
      // a refused file also lists what would keep its processes from running; count what refused it
      const notRun = new Set(parsed.processes.flatMap((process) => process.notExecuted.map((reason) => reason.message)));
      const refusing = entry.problems.filter((problem) => !notRun.has(problem.message));
      for (const reason of new Set(refusing.map((problem) => reasonOf(problem.message)))) count(refused, reason);
      for (const process of entry.processes) for (const reason of new Set(process.notExecuted.map(reasonOf))) count(notExecuted, reason);
    } catch (err) {
      entry = { file: name, crashed: (err as Error).stack ?? String(err) };
    }
    entries.push(entry);
    print(entry, index + 1, files.length);
  }
  const reports = entries.filter((entry): entry is Viewable => !('crashed' in entry));
  const totals = {
    files: entries.length,
    crashed: entries.length - reports.length,
    deployable: reports.filter((entry) => entry.deployable).length,
    executable: reports.filter((entry) => entry.executable).length,
    refused: reports.filter((entry) => !entry.viewable).length,
    viewable: reports.filter((entry) => entry.viewable).length,
    processes: reports.reduce((sum, entry) => sum + entry.processes.length, 0),
    processesExecuted: reports.reduce((sum, entry) => sum + entry.processes.filter((p) => p.runs).length, 0),
    refusedByReason: refused,
    notExecutedByReason: notExecuted,
  };
  const sorted = (map: Record<string, number>): [string, number][] => Object.entries(map).sort((a, b) => b[1] - a[1]);
  console.log(
    `\n${totals.files} files: ${totals.crashed} crashed, ${totals.deployable} deployable, ${totals.viewable} viewable (as is or with view-only), ${totals.executable} with a process Baton executes, ${totals.refused} refused`,
  );
  console.log(`${totals.processes} processes, ${totals.processesExecuted} executed by Baton`);
  if (Object.keys(refused).length) console.log('files refused as is, by reason:');
  for (const [reason, n] of sorted(refused)) console.log(`  ${String(n).padStart(5)}  ${reason}`);
  if (Object.keys(notExecuted).length) console.log('processes deployed for viewing only, by reason:');
  for (const [reason, n] of sorted(notExecuted)) console.log(`  ${String(n).padStart(5)}  ${reason}`);
  if (jsonFile) fs.writeFileSync(jsonFile, `${JSON.stringify({ totals, files: entries }, null, 1)}\n`);
  process.exitCode = totals.crashed ? 1 : 0;
}

await main();
