/** Baton server processes and worker processes for the HTTP workloads. */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawnServer, type ServerProcess } from '../../test/helpers/server-process.ts';
import { httpClient } from './http.ts';

const SALARY_XML = fs.readFileSync(path.join(import.meta.dirname, '../../processes/salary/salary.bpmn'), 'utf8');

/** What every benchmark server runs with: demo users, no built-in connectors, quiet logs. */
export function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { BATON_LOG_LEVEL: 'warn', BATON_CONNECTORS: 'none', BATON_TIMER_INTERVAL_MS: '1000', ...extra };
}

/** Starts `count` Baton processes on one data directory (or one MONGODB_URI). */
export async function startServers(count: number, dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess[]> {
  const servers: ServerProcess[] = [];
  for (let i = 0; i < count; i++) servers.push(await spawnServer({ dataDir, demo: 'users', env: serverEnv(env), startTimeoutMs: 120_000 }));
  return servers;
}

/** Deploys the salary process through the REST API. */
export async function deploySalary(url: string): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([SALARY_XML], { type: 'application/xml' }), 'salary.bpmn');
  const res = await fetch(`${url}/api/deployments`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`deploying salary: ${res.status} ${await res.text()}`);
}

/** A worker process (bench/worker-process.ts) and what it reports. */
export interface WorkerProcess {
  child: ChildProcess;
  /** asks it to stop; resolves with its latency samples and error count */
  stop(): Promise<{ samples: Record<string, number[]>; errors: number }>;
}

/** Forks worker processes that report each finished instance to `onDone`. */
export function startWorkers(count: number, urls: string[], onDone: (instanceId: string) => void): WorkerProcess[] {
  return Array.from({ length: count }, (_, i) => {
    const child = fork(path.join(import.meta.dirname, '../worker-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_BATON_URLS: urls.join(','), BENCH_WORKER_ID: `bench-worker-${i}`, BENCH_WORKER_LOOPS: '2' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: ((value: { samples: Record<string, number[]>; errors: number }) => void) | null = null;
    child.on('message', (message: { done?: string; samples?: Record<string, number[]>; errors?: number }) => {
      if (message.done) onDone(message.done);
      if (message.samples) report?.({ samples: message.samples, errors: message.errors ?? 0 });
    });
    return {
      child,
      stop: () =>
        new Promise((resolve, reject) => {
          report = resolve;
          child.once('exit', (code) => code !== 0 && reject(new Error(`worker process exited with ${code}`)));
          child.send({ stop: true });
        }),
    };
  });
}

/** An HTTP client per server, for a user. */
export function clientsOf(servers: ServerProcess[], user: string, password: string) {
  return servers.map((server) => httpClient(server.url, user, password));
}
