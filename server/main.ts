import { createBaton } from './baton.ts';
import { ConfigError, readConfig } from './config.ts';
import { randomBytes } from 'node:crypto';
import { mergeUsers, watchUsersFile } from './auth/users-file.ts';
import { demoUsers, loadUsersFile } from './auth/users.ts';
import { deploySalary, startDemoSystems } from './demo/index.ts';
import { createLogger } from './log.ts';

/** Composition root: read the configuration, wire Baton, start it, stop it cleanly on a signal. */
async function main(): Promise<void> {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // the demo workers sign in with an API token made for this run, not with worker's password
  const workerToken = config.demo === 'all' ? randomBytes(32).toString('base64url') : undefined;
  const demo = config.demo === 'off' ? [] : await demoUsers({ workerToken });
  const users = mergeUsers(config.usersFile ? loadUsersFile(config.usersFile) : [], demo);

  const baton = await createBaton(config, { log, users });
  const usersFile = config.usersFile ? watchUsersFile(config.usersFile, { demo, apply: (next) => baton.reloadUsers(next), log }) : null;
  if (config.demo !== 'off') await deploySalary(baton.deployments);
  const port = await baton.listen();
  const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, store: config.store.kind, demo: config.demo, connectors: baton.connectors.health() }, 'Baton is listening');
  const demoSystems = workerToken ? await startDemoSystems(url, log, { user: 'worker', token: workerToken }) : null;

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: taking no new work, finishing what is in hand');
    setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting anyway');
      process.exit(1);
    }, 30_000).unref();
    usersFile?.stop();
    await demoSystems?.stop();
    await baton.close();
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Baton failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
