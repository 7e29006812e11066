import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createUserRegistry } from './auth/registry.ts';
import { createAuthenticator, type StoredUser } from './auth/users.ts';
import { createApp } from './app.ts';
import { camundaRoutes } from './camunda/routes.ts';
import type { Config } from './config.ts';
import { setExpressionLimits } from './engine/expression-limits.ts';
import { warmFeelSandbox } from './engine/feel-sandbox.ts';
import { createConnectors } from './connectors/index.ts';
import { createConnectorWorkers, type ConnectorWorkers } from './connectors/workers.ts';
import { deploymentRoutes } from './deployments/routes.ts';
import { createDeploymentService, type DeploymentService } from './deployments/service.ts';
import { BUILT_IN_SCRIPT_LANGUAGES } from './engine/script-languages.ts';
import { createScriptLanguages, type ScriptLanguage } from './engine/scripts.ts';
import { createDefinitionCache } from './instances/definitions.ts';
import { incidentRoutes } from './incidents/routes.ts';
import { createIncidentService } from './incidents/service.ts';
import { createExecutor } from './instances/executor.ts';
import { instanceRoutes } from './instances/routes.ts';
import { createInstanceService, type InstanceService } from './instances/service.ts';
import { createThrownEventDelivery, type ThrownEventDelivery } from './instances/thrown-events.ts';
import { jobRoutes } from './jobs/routes.ts';
import { createJobService } from './jobs/service.ts';
import { messageRoutes } from './messages/routes.ts';
import { createMessageService, type MessageService } from './messages/service.ts';
import { createDirectory } from './notifications/directory.ts';
import { createNotifier } from './notifications/notifier.ts';
import { createTimerScheduler, type TimerScheduler } from './scheduler/timers.ts';
import { createSqliteStore } from './store/sqlite/index.ts';
import type { Store } from './store/types.ts';
import { taskRoutes } from './tasks/routes.ts';
import { createInstanceChanges } from './web/changes.ts';
import { createWeb } from './web/index.ts';
import { createSessionKeeper } from './web/session.ts';
import { createTaskService } from './tasks/service.ts';

/** How long requests under way may take to finish when Baton stops. */
const CLOSE_GRACE_MS = 10_000;

/** A wired Baton server: its Koa app, services and background loops. */
export interface Baton {
  app: ReturnType<typeof createApp>;
  store: Store;
  deployments: DeploymentService;
  instances: InstanceService;
  messages: MessageService;
  /** messages and signals thrown by instances, on their way to others */
  thrownEvents: ThrownEventDelivery;
  scheduler: TimerScheduler;
  /** the built-in connectors (SMS, e-mail, HTTP) working their jobs */
  connectors: ConnectorWorkers;
  /**
   * Replaces the users (the users file was read again) and ends the web app sessions of users who
   * are gone or whose password changed, on every node; resolves with their names.
   */
  reloadUsers(users: StoredUser[]): Promise<string[]>;
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
export async function createBaton(
  config: Config,
  deps: { log: Logger; users: StoredUser[]; clock?: () => Date; scriptLanguages?: ScriptLanguage[] },
): Promise<Baton> {
  const { log, users } = deps;
  setExpressionLimits(config.expressionLimits);
  warmFeelSandbox();
  const scripts = createScriptLanguages([...BUILT_IN_SCRIPT_LANGUAGES, ...(deps.scriptLanguages ?? [])], config.scriptFormats);
  const clock = deps.clock ?? (() => new Date());
  const store = await openStore(config);
  const definitions = createDefinitionCache(store, scripts);
  const registry = createUserRegistry(users);
  const directory = createDirectory(registry);
  const notifier = createNotifier({ directory, enabled: config.connectors.enabled, publicUrl: config.publicUrl });
  let jobs: ReturnType<typeof createJobService> | null = null;
  let thrownEvents: ThrownEventDelivery | null = null;
  const changes = createInstanceChanges();
  const executor = createExecutor({
    store,
    definitions,
    clock,
    log,
    notifier,
    scripts,
    liveEngines: config.liveEngines,
    variableLimits: config.variableLimits,
    onThrown: (record, thrown) => thrownEvents?.deliver(record, thrown),
    onJobs: (topics) => jobs?.notify(topics),
    onCommit: (id, revision) => changes.committed(id, revision),
  });
  thrownEvents = createThrownEventDelivery({ store, definitions, executor, log });
  jobs = createJobService({ store, executor, definitions, clock, retryPolicy: config.retryPolicy, notifier });
  const incidents = createIncidentService({ store, executor, definitions, retryPolicy: config.retryPolicy });
  const deployments = createDeploymentService(store, clock, scripts);
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
    slowMs: Math.min(10_000, config.connectors.httpTimeoutMs / 2),
  });

  const authenticator = createAuthenticator(registry, { now: () => clock().getTime() });
  const sessions = createSessionKeeper(store, registry, () => clock().getTime());
  const web = createWeb({ authenticator, users: registry, sessions, store, instances, changes, eventStreams: config.eventStreams, publicUrl: config.publicUrl });
  const app = createApp({
    log,
    authenticator,
    web: web.middleware,
    bodyLimitBytes: config.bodyLimitBytes,
    jsonMaxProperties: config.jsonMaxProperties,
    trustProxy: config.trustProxy,
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
    health: async () => {
      const degraded = connectors.degraded();
      const ok = !Object.keys(degraded).length;
      return { status: ok ? 'ok' : 'degraded', connectors: connectors.health(), ...(ok ? {} : { degraded }) };
    },
  });

  let server: Server | null = null;
  return {
    app,
    store,
    deployments,
    instances,
    messages,
    thrownEvents,
    scheduler,
    connectors,
    async reloadUsers(next) {
      const ended = registry.replace(next);
      for (const name of ended) await sessions.endAll(name);
      return ended;
    },
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
    /**
     * Stops taking work (no new connections, long polls answer at once, no timer or connector
     * job is started), lets requests and connector calls in hand finish (connector calls still
     * running after a few seconds are released: their jobs are unlocked), then closes the store.
     */
    async close() {
      const closed = new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      jobs?.releaseWaiters();
      web.close();
      await scheduler.stop();
      await connectors.stop();
      const deadline = Date.now() + CLOSE_GRACE_MS;
      for (;;) {
        server?.closeIdleConnections();
        if (Date.now() > deadline) server?.closeAllConnections();
        const done = await Promise.race([closed.then(() => true), new Promise((resolve) => setTimeout(resolve, 50, false))]);
        if (done) break;
      }
      executor.close();
      await store.close();
    },
  };
}
