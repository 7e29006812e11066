/**
 * A real Baton server in a child process (`node --import tsx server/main.ts`), for tests that
 * must kill it with SIGKILL, restart it on the same data directory, or run `npm start`'s demo
 * systems and workers. Talks to it over HTTP only, as a customer would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.join(import.meta.dirname, '../..');

/** Basic credentials of a user. */
export interface Credentials {
  user: string;
  password: string;
}

/** The demo users' Basic credentials (BATON_DEMO=users or all). */
export const DEMO: Credentials = { user: 'demo', password: 'demo' };
export const MARY: Credentials = { user: 'mary', password: 'mary' };
export const WORKER: Credentials = { user: 'worker', password: 'worker' };

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One pino log line as the server writes it to stdout. */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

/** An HTTP answer: status, media type and the parsed JSON body (or the text, or undefined). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read reply bodies as loose JSON
export interface Reply<T = any> {
  status: number;
  type: string;
  body: T;
}

/** A tiny HTTP client signed in as one user. */
/* eslint-disable @typescript-eslint/no-explicit-any -- tests read reply bodies as loose JSON */
export interface Client {
  get<T = any>(urlPath: string): Promise<Reply<T>>;
  post<T = any>(urlPath: string, body?: unknown): Promise<Reply<T>>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A running Baton server process. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** every stdout line so far (pino writes one JSON object per line) */
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  /** stdout lines parsed; throws naming the first line that is not a JSON log line */
  logs(): LogLine[];
  /** resolves with the first log line (past or future) that matches; rejects on timeout or exit */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** an HTTP client signed in as the user */
  as(credentials: Credentials): Client;
  /** resolves when the process has ended */
  readonly exited: Promise<Exit>;
  running(): boolean;
  /** kill -9: no shutdown code runs; resolves once the process is gone */
  kill9(): Promise<Exit>;
  /** SIGTERM: a clean shutdown; resolves once the process is gone (SIGKILL after timeoutMs) */
  stop(timeoutMs?: number): Promise<Exit>;
}

/** What to start. */
export interface SpawnOptions {
  dataDir: string;
  demo: 'all' | 'users' | 'off';
  /** the address to listen on (BATON_HOST) and to reach the server at; default 127.0.0.1 */
  host?: string;
  /** extra or overriding environment variables */
  env?: Record<string, string>;
  /** how long to wait for GET /health; default 30 s */
  startTimeoutMs?: number;
}

const children = new Set<ChildProcess>();
// A safety net for a crashed test run: never leave a server behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A fresh, empty data directory under the OS temp dir. */
export function makeDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'baton-process-'));
}

/** Removes a data directory made by {@link makeDataDir}. */
export function removeDataDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** A TCP port of the host that was free a moment ago (bound to port 0, then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node --import tsx server/main.ts` on a free port of 127.0.0.1 and resolves once
 * GET /health answers 200. Retries with another port when the chosen one was taken meanwhile.
 */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(options, await freePort(options.host));
    } catch (err) {
      if (attempt < 3 && err instanceof PortTakenError) continue;
      throw err;
    }
  }
}

class PortTakenError extends Error {}

async function spawnOnce(options: SpawnOptions, port: number): Promise<ServerProcess> {
  const host = options.host ?? '127.0.0.1';
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('BATON_') && name !== 'MONGODB_URI' && name !== 'PORT') env[name] = value;
  }
  Object.assign(env, {
    PORT: String(port),
    BATON_HOST: host,
    BATON_DATA_DIR: options.dataDir,
    BATON_DEMO: options.demo,
    BATON_TIMER_INTERVAL_MS: '200',
    BATON_LOG_LEVEL: 'info',
    ...options.env,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    for (const listener of listeners) listener(line);
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  child.on('error', (err) => stderr.push(`spawn failed: ${err.message}`));
  const exited = new Promise<Exit>((resolve) => {
    // 'close' comes after the process ended and its stdout and stderr were read to the end
    child.once('close', (code, signal) => {
      children.delete(child);
      setImmediate(() => resolve({ code, signal }));
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const parse = (line: string, index: number): LogLine => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`stdout line ${index + 1} is not JSON: ${line}`);
    }
    const entry = value as Partial<LogLine> | null;
    if (!entry || typeof entry !== 'object' || typeof entry.level !== 'number' || typeof entry.time !== 'number' || typeof entry.msg !== 'string') {
      throw new Error(`stdout line ${index + 1} is not a log line (level, time, msg): ${line}`);
    }
    return entry as LogLine;
  };
  const tryParse = (line: string): LogLine | null => {
    try {
      return parse(line, 0);
    } catch {
      return null;
    }
  };

  const server: ServerProcess = {
    url,
    pid: child.pid ?? -1,
    dataDir: options.dataDir,
    stdout,
    stderr,
    logs: () => stdout.map(parse),
    waitForLog(match, timeoutMs = 20_000) {
      const seen = stdout.map(tryParse).find((line) => line && match(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (line: string): void => {
          const entry = tryParse(line);
          if (entry && match(entry)) {
            done();
            resolve(entry);
          }
        };
        const timer = setTimeout(() => (done(), reject(new Error(`no matching log line within ${timeoutMs} ms`))), timeoutMs);
        listeners.add(listener);
        void exited.then(() => (done(), reject(new Error('the server exited before a matching log line'))));
      });
    },
    as: (credentials) => client(url, credentials),
    exited,
    running: () => !ended,
    async kill9() {
      if (!ended) child.kill('SIGKILL');
      return exited;
    },
    async stop(timeoutMs = 10_000) {
      if (!ended) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (ended) {
      const output = stderr.join('\n');
      if (/EADDRINUSE/.test(output)) throw new PortTakenError(`port ${port} was taken`);
      throw new Error(`Baton exited before it was healthy:\n${output}\n${stdout.join('\n')}`);
    }
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) return server;
    if (Date.now() > deadline) {
      await server.kill9();
      throw new Error(`Baton was not healthy within ${options.startTimeoutMs ?? 30_000} ms:\n${stderr.join('\n')}`);
    }
    await sleep(50);
  }
}

/** An HTTP client for a base URL with Basic credentials; JSON in, JSON (or problem+json) out. */
export function client(baseUrl: string, { user, password }: Credentials): Client {
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const call = async (method: string, urlPath: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    return { status: res.status, type, body: /json/.test(type) && text ? JSON.parse(text) : text || undefined };
  };
  return {
    get: (urlPath) => call('GET', urlPath),
    post: (urlPath, body) => call('POST', urlPath, body ?? {}),
  };
}

/**
 * Runs `probe` every `everyMs` until it resolves without throwing and returns its value; after
 * `timeoutMs` fails with `what` and the probe's last error. For business outcomes that take real
 * time: assert inside the probe, never sleep a fixed time.
 */
export async function eventually<T>(what: string, probe: () => Promise<T>, { timeoutMs = 20_000, everyMs = 200 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    await sleep(everyMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
