import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import pino from 'pino';
import type { User } from '../auth/users.ts';
import { createBaton, type Baton } from '../baton.ts';
import { readConfig } from '../config.ts';
import { BatonError } from '../errors.ts';
import type { Variables } from '../store/types.ts';
import { newTraceLog, settledLines, traceLanguage, TRACE_FORMAT } from './trace-language.ts';
import { adaptForBaton } from './transform.ts';

/**
 * Runs a directory in betsy's format (tests.json + processes/) against Baton: each test case on
 * its own in-process Baton (own store, own clock), deployed through the deployment service,
 * started through the instance service, timers fired by the durable timer scheduler.
 */

/** One test case as tests.json gives it. */
export interface BetsyCase {
  input: string | null;
  integerVariable: number;
  parallelProcess: boolean;
  delayMs: number;
  expectedTrace: string[];
}

export interface BetsyTest {
  name: string;
  group: string;
  file: string;
  description?: string;
  cases: BetsyCase[];
}

export interface CaseResult {
  test: string;
  group: string;
  case: number;
  passed: boolean;
  expected: string[];
  actual: string[];
  /** why deployment was refused, or how an instance failed */
  detail: string | null;
}

export interface TestResult {
  name: string;
  group: string;
  passed: boolean;
  cases: CaseResult[];
}

const HARNESS: User = { name: 'conformance', groups: [], roles: ['admin'] };

/** Reads tests.json of a betsy-format directory. */
export function readTests(dir: string): BetsyTest[] {
  const tests = JSON.parse(fs.readFileSync(path.join(dir, 'tests.json'), 'utf8')) as BetsyTest[];
  if (!Array.isArray(tests)) throw new Error(`${dir}/tests.json does not hold a list of tests`);
  return tests;
}

/** True when the actual trace equals the expected one as a multiset; `ERROR` matches either error line. */
export function traceMatches(expected: string[], actual: string[]): boolean {
  if (expected.length !== actual.length) return false;
  const left = [...actual];
  for (const line of expected) {
    const index = left.findIndex((candidate) => candidate === line || (line === 'ERROR' && (candidate === 'ERROR_runtime' || candidate === 'ERROR_deployment')));
    if (index < 0) return false;
    left.splice(index, 1);
  }
  return true;
}

async function withBaton<T>(clock: () => Date, log: ReturnType<typeof newTraceLog>, work: (baton: Baton) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-conformance-'));
  const config = readConfig({
    BATON_DATA_DIR: dataDir,
    BATON_DEMO: 'users',
    BATON_CONNECTORS: 'none',
    BATON_TIMER_INTERVAL_MS: '3600000',
    BATON_SCRIPT_FORMATS: TRACE_FORMAT,
  });
  const baton = await createBaton(config, { log: pino({ level: 'silent' }), users: [], clock, scriptLanguages: [traceLanguage(log, clock)] });
  try {
    return await work(baton);
  } finally {
    await baton.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The trace line of an instance that did not complete normally, or null. */
function outcomeLine(status: string, error: string | null): string | null {
  if (status !== 'failed') return null;
  return error && /^BpmnError\b|thrown by end event|error end event/i.test(error) ? 'ERROR_thrownErrorEvent' : 'ERROR_runtime';
}

/** Runs one case: deploy, start (the parallel process first), let timers fire within the delay, collect the trace. */
export async function runCase(dir: string, test: BetsyTest, index: number): Promise<CaseResult> {
  const spec = test.cases[index] as BetsyCase;
  const log = newTraceLog();
  let offset = 0;
  const clock = (): Date => new Date(Date.now() + offset);
  const result = (actual: string[], detail: string | null): CaseResult => ({
    test: test.name,
    group: test.group,
    case: index + 1,
    passed: traceMatches(spec.expectedTrace, actual),
    expected: spec.expectedTrace,
    actual,
    detail,
  });
  const xml = adaptForBaton(fs.readFileSync(path.join(dir, test.file), 'utf8'));
  return withBaton(clock, log, async (baton) => {
    try {
      await baton.deployments.deploy([{ name: path.basename(test.file), xml }], test.name, HARNESS.name);
    } catch (err) {
      if (err instanceof BatonError) {
        const problems = err.problems?.map((problem) => problem.message).join('; ');
        return result(['ERROR_deployment'], problems || err.message);
      }
      throw err;
    }
    const variables: Variables = { integerVariable: spec.integerVariable, testCaseNumber: index + 1 };
    if (spec.input !== null) variables.test = spec.input;
    const details: string[] = [];
    const started: string[] = [];
    const start = async (key: string): Promise<void> => {
      try {
        started.push((await baton.instances.start(key, { variables }, HARNESS)).id);
      } catch (err) {
        details.push(`start ${key}: ${(err as Error).message}`);
        log.lines.push('ERROR_runtime');
      }
    };
    const begin = clock().getTime();
    if (spec.parallelProcess) await start('ParallelProcess');
    await start(test.name);
    await baton.thrownEvents.idle();
    // time passes as the test's delay allows: each due timer fires on the injected clock
    for (;;) {
      const page = await baton.store.findInstances({ status: 'running', offset: 0, limit: 1000 });
      const next = page.items
        .map((instance) => instance.nextTimerAt)
        .filter((due): due is string => due !== null)
        .map((due) => Date.parse(due))
        .sort((a, b) => a - b)[0];
      if (next === undefined || next > begin + Math.max(spec.delayMs, 0)) break;
      const now = clock().getTime();
      if (next > now) offset += next - now;
      if (!(await baton.scheduler.tick())) break;
      await baton.thrownEvents.idle();
    }
    const all = await baton.store.findInstances({ offset: 0, limit: 1000 });
    const lines = [...log.lines, ...settledLines(log)];
    for (const instance of all.items) {
      const line = outcomeLine(instance.status, instance.error);
      if (line) {
        lines.push(line);
        details.push(`${instance.processKey} ${instance.status}: ${instance.error ?? ''}`);
      } else if (instance.status === 'running') details.push(`${instance.processKey} still running`);
    }
    return result(lines, details.join('; ') || null);
  });
}

/** Runs every test of a directory, `concurrency` cases at a time, reporting each finished test. */
export async function runSuite(dir: string, options: { concurrency?: number; onTest?: (result: TestResult, done: number, total: number) => void; filter?: (test: BetsyTest) => boolean } = {}): Promise<TestResult[]> {
  const tests = readTests(dir).filter(options.filter ?? (() => true));
  const jobs = tests.flatMap((test) => test.cases.map((_, index) => ({ test, index })));
  const byTest = new Map<BetsyTest, CaseResult[]>();
  const results: TestResult[] = [];
  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  const finish = (job: { test: BetsyTest; index: number }, outcome: CaseResult): void => {
    const done = [...(byTest.get(job.test) ?? []), outcome];
    byTest.set(job.test, done);
    if (done.length === job.test.cases.length) {
      const result: TestResult = { name: job.test.name, group: job.test.group, passed: done.every((c) => c.passed), cases: done.sort((a, b) => a.case - b.case) };
      results.push(result);
      options.onTest?.(result, results.length, tests.length);
    }
  };
  await Promise.all(
    jobs.map((job) =>
      limit(async () => {
        let outcome: CaseResult;
        try {
          outcome = await runCase(dir, job.test, job.index);
        } catch (err) {
          outcome = { test: job.test.name, group: job.test.group, case: job.index + 1, passed: false, expected: job.test.cases[job.index]?.expectedTrace ?? [], actual: [], detail: `harness: ${(err as Error).stack ?? err}` };
        }
        finish(job, outcome);
      }),
    ),
  );
  return tests.map((test) => results.find((r) => r.name === test.name && r.group === test.group) as TestResult);
}

/** Totals per group and overall, and the failed cases, as `--json` writes them. */
export function summarize(results: TestResult[]) {
  const groups: Record<string, { tests: number; passed: number }> = {};
  for (const result of results) {
    const group = (groups[result.group] ??= { tests: 0, passed: 0 });
    group.tests++;
    if (result.passed) group.passed++;
  }
  return {
    total: { tests: results.length, passed: results.filter((r) => r.passed).length },
    groups,
    failures: results.flatMap((r) => r.cases.filter((c) => !c.passed)),
  };
}
