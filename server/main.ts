import { createBaton } from './baton.ts';
import { ConfigError, readConfig } from './config.ts';
import { demoUsers, loadUsersFile, type StoredUser } from './auth/users.ts';
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
  const users: StoredUser[] = [];
  if (config.usersFile) users.push(...loadUsersFile(config.usersFile));
  if (config.demo !== 'off') users.push(...(await demoUsers()).filter((demo) => !users.some((user) => user.name === demo.name)));

  const baton = await createBaton(config, { log, users });
  if (config.demo !== 'off') await deploySalary(baton.deployments);
  const port = await baton.listen();
  const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, store: config.store.kind, demo: config.demo, connectors: baton.connectors.health() }, 'Baton is listening');
  const demo = config.demo === 'all' ? await startDemoSystems(url, log) : null;

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: taking no new work, finishing what is in hand');
    setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting anyway');
      process.exit(1);
    }, 30_000).unref();
    await demo?.stop();
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
