import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createAuthenticator, type StoredUser } from './auth/users.ts';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { deploymentRoutes } from './deployments/routes.ts';
import { createDeploymentService, type DeploymentService } from './deployments/service.ts';
import { createDefinitionCache } from './instances/definitions.ts';
import { createExecutor } from './instances/executor.ts';
import { instanceRoutes } from './instances/routes.ts';
import { createInstanceService } from './instances/service.ts';
import { jobRoutes } from './jobs/routes.ts';
import { createJobService } from './jobs/service.ts';
import { messageRoutes } from './messages/routes.ts';
import { createMessageService } from './messages/service.ts';
import { createTimerScheduler, type TimerScheduler } from './scheduler/timers.ts';
import { createSqliteStore } from './store/sqlite/index.ts';
import type { Store } from './store/types.ts';
import { taskRoutes } from './tasks/routes.ts';
import { createTaskService } from './tasks/service.ts';

/** A wired Baton server: its Koa app, services and background loops. */
export interface Baton {
  app: ReturnType<typeof createApp>;
  store: Store;
  deployments: DeploymentService;
  scheduler: TimerScheduler;
  /** starts listening and the timer scheduler; resolves with the bound port */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** Wires Baton by hand (no container): store → definitions → executor → services → routes. */
export function createBaton(config: Config, deps: { log: Logger; users: StoredUser[]; clock?: () => Date }): Baton {
  const { log, users } = deps;
  const clock = deps.clock ?? (() => new Date());
  if (config.store.kind !== 'sqlite') throw new Error('MONGODB_URI is not supported yet: unset it to use the embedded store');
  const store = createSqliteStore(config.store.dataDir);
  const definitions = createDefinitionCache(store);
  let jobs: ReturnType<typeof createJobService> | null = null;
  const executor = createExecutor({ store, definitions, clock, log, onJobs: () => jobs?.notify() });
  jobs = createJobService(store, executor, clock);
  const deployments = createDeploymentService(store, clock);
  const instances = createInstanceService(store, definitions, executor);
  const tasks = createTaskService(store, executor);
  const messages = createMessageService(store, definitions, executor);
  const scheduler = createTimerScheduler({ store, executor, clock, intervalMs: config.timerIntervalMs, log });

  const app = createApp({
    log,
    authenticator: createAuthenticator(users),
    bodyLimitBytes: config.bodyLimitBytes,
    routers: [
      deploymentRoutes(deployments, config.bodyLimitBytes),
      instanceRoutes(instances),
      taskRoutes(tasks),
      jobRoutes(jobs),
      messageRoutes(messages),
    ],
    health: async () => ({ status: 'ok' }),
  });

  let server: Server | null = null;
  return {
    app,
    store,
    deployments,
    scheduler,
    listen() {
      return new Promise((resolve, reject) => {
        server = app.listen(config.port, config.host, () => {
          scheduler.start();
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
      jobs?.notify();
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve));
      }
      await store.close();
    },
  };
}
