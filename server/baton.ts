import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createAuthenticator, type StoredUser } from './auth/users.ts';
import { createApp } from './app.ts';
import { camundaRoutes } from './camunda/routes.ts';
import type { Config } from './config.ts';
import { createConnectors } from './connectors/index.ts';
import { createConnectorWorkers, type ConnectorWorkers } from './connectors/workers.ts';
import { deploymentRoutes } from './deployments/routes.ts';
import { createDeploymentService, type DeploymentService } from './deployments/service.ts';
import { createDefinitionCache } from './instances/definitions.ts';
import { incidentRoutes } from './incidents/routes.ts';
import { createIncidentService } from './incidents/service.ts';
import { createExecutor } from './instances/executor.ts';
import { instanceRoutes } from './instances/routes.ts';
import { createInstanceService } from './instances/service.ts';
import { jobRoutes } from './jobs/routes.ts';
import { createJobService } from './jobs/service.ts';
import { messageRoutes } from './messages/routes.ts';
import { createMessageService } from './messages/service.ts';
import { createDirectory } from './notifications/directory.ts';
import { createNotifier } from './notifications/notifier.ts';
import { createTimerScheduler, type TimerScheduler } from './scheduler/timers.ts';
import { createSqliteStore } from './store/sqlite/index.ts';
import type { Store } from './store/types.ts';
import { taskRoutes } from './tasks/routes.ts';
import { createInstanceChanges } from './web/changes.ts';
import { createWeb } from './web/index.ts';
import { createTaskService } from './tasks/service.ts';

/** A wired Baton server: its Koa app, services and background loops. */
export interface Baton {
  app: ReturnType<typeof createApp>;
  store: Store;
  deployments: DeploymentService;
  scheduler: TimerScheduler;
  /** the built-in connectors (SMS, e-mail, HTTP) working their jobs */
  connectors: ConnectorWorkers;
  /** starts listening, the timer scheduler and the connectors; resolves with the bound port */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** Opens the configured store: the embedded SQLite store, or MongoDB when MONGODB_URI is set. */
async function openStore(config: Config): Promise<Store> {
  if (config.store.kind === 'mongodb') {
    const { createMongoStore } = await import('./store/mongodb/index.ts');
    return createMongoStore(config.store.uri);
  }
  return createSqliteStore(config.store.dataDir);
}

/** Wires Baton by hand (no container): store → definitions → executor → services → routes. */
export async function createBaton(config: Config, deps: { log: Logger; users: StoredUser[]; clock?: () => Date }): Promise<Baton> {
  const { log, users } = deps;
  const clock = deps.clock ?? (() => new Date());
  const store = await openStore(config);
  const definitions = createDefinitionCache(store);
  const directory = createDirectory(users);
  const notifier = createNotifier({ directory, enabled: config.connectors.enabled, publicUrl: config.publicUrl });
  let jobs: ReturnType<typeof createJobService> | null = null;
  const changes = createInstanceChanges();
  const executor = createExecutor({
    store,
    definitions,
    clock,
    log,
    notifier,
    onJobs: (topics) => jobs?.notify(topics),
    onCommit: (id, revision) => changes.committed(id, revision),
  });
  jobs = createJobService({ store, executor, definitions, clock, retryPolicy: config.retryPolicy, notifier });
  const incidents = createIncidentService({ store, executor, definitions, retryPolicy: config.retryPolicy });
  const deployments = createDeploymentService(store, clock);
  const instances = createInstanceService(store, definitions, executor);
  const tasks = createTaskService(store, executor);
  const messages = createMessageService(store, definitions, executor);
  const scheduler = createTimerScheduler({ store, executor, clock, intervalMs: config.timerIntervalMs, log });
  const connectors = createConnectorWorkers({
    jobs,
    connectors: createConnectors(config, { directory, log }),
    log,
    intervalMs: config.timerIntervalMs,
    lockMs: Math.max(5 * 60_000, config.connectors.httpTimeoutMs + 60_000),
  });

  const authenticator = createAuthenticator(users);
  const web = createWeb({ authenticator, users, store, instances, changes, publicUrl: config.publicUrl });
  const app = createApp({
    log,
    authenticator,
    web: web.middleware,
    bodyLimitBytes: config.bodyLimitBytes,
    routers: [
      deploymentRoutes(deployments, config.bodyLimitBytes),
      instanceRoutes(instances),
      taskRoutes(tasks),
      jobRoutes(jobs),
      messageRoutes(messages),
      incidentRoutes(incidents),
      camundaRoutes({ deployments, instances, tasks, jobs, messages, store, log, bodyLimitBytes: config.bodyLimitBytes }),
      web.router,
    ],
    health: async () => ({ status: 'ok', connectors: connectors.health() }),
  });

  let server: Server | null = null;
  return {
    app,
    store,
    deployments,
    scheduler,
    connectors,
    listen() {
      return new Promise((resolve, reject) => {
        server = app.listen(config.port, config.host, () => {
          scheduler.start();
          connectors.start();
          const address = server?.address();
          resolve(typeof address === 'object' && address ? address.port : config.port);
        });
        server.on('error', reject);
        server.requestTimeout = 0;
        server.headersTimeout = 60_000;
      });
    },
    async close() {
      await scheduler.stop();
      await connectors.stop();
      jobs?.notify();
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve));
      }
      await store.close();
    },
  };
}
