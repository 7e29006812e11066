/**
 * A throwaway FerretDB for tests: a MongoDB-compatible server (Apache-2.0) on SQLite in a fresh
 * temporary directory, on a free loopback port. No MongoDB server package is reachable here, so
 * this is how the MongoDB store meets a real server.
 *
 * The binary is FERRETDB_BIN, else $(go env GOPATH)/bin/ferretdb, else `ferretdb` on PATH.
 * `.ci/run` builds FerretDB v1.24.2 when it is missing; by hand:
 *
 *   D=$(mktemp -d) && cp -r "$(go mod download -json github.com/FerretDB/FerretDB@v1.24.2 | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"/. "$D" \
 *     && chmod -R u+w "$D" && echo v1.24.2 > "$D/build/version/version.txt" \
 *     && (cd "$D" && go build -buildvcs=false -o "$(go env GOPATH)/bin/ferretdb" ./cmd/ferretdb)
 *
 * A plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` is not enough: that
 * binary panics at start ("Invalid build/version/version.txt file content"), because the
 * release's version file is generated, not in the module.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';

export interface FerretDb {
  /** mongodb://127.0.0.1:<port>/ */
  uri: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

async function isExecutable(file: string): Promise<boolean> {
  return fs.access(file, fs.constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The ferretdb binary, or null when none is installed. */
async function findBinary(): Promise<string | null> {
  const configured = process.env.FERRETDB_BIN;
  if (configured) {
    if (await isExecutable(configured)) return configured;
    throw new Error(`FERRETDB_BIN=${configured} is not an executable file`);
  }
  const gopath = await promisify(execFile)('go', ['env', 'GOPATH']).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
  const candidates = [
    ...(gopath ? [path.join(gopath, 'bin', 'ferretdb')] : []),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'ferretdb')),
  ];
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate;
  return null;
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** Pings until the server answers; throws with its output if it exits or does not answer in time. */
async function waitUntilUp(uri: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = output();
      const hint = log.includes('version.txt')
        ? '\nThis binary was built by a plain `go install`; build it as test/helpers/ferretdb.ts (or .ci/run) does.'
        : '';
      throw new Error(`ferretdb exited (${child.exitCode ?? child.signalCode}) before it answered:\n${log}${hint}`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ferretdb did not answer at ${uri} within ${START_TIMEOUT_MS} ms: ${String(err)}\n${output()}`);
    } finally {
      await client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts FerretDB on SQLite in a fresh temporary directory. Returns null when no binary is
 * installed, except in CI (`CI` set), where a missing binary must fail the run and throws.
 */
export async function startFerretDb(): Promise<FerretDb | null> {
  const binary = await findBinary();
  if (!binary) {
    if (process.env.CI) throw new Error('ferretdb not found in CI: set FERRETDB_BIN or build it as .ci/run does (see test/helpers/ferretdb.ts)');
    return null;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-ferretdb-'));
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/`;
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      `--state-dir=${dir}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // never outlive the test run, even when it ends without calling stop()
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(uri, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { uri, stop };
}
