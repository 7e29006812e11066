/**
 * Baton's own service layer in this process, without HTTP: the same factories server/baton.ts
 * wires (store, definition cache, executor, job, task and instance services) on a durable SQLite
 * store in a fresh directory. For W2, which compares Baton with bare bpmn-engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { User } from '../../server/auth/users.ts';
import { createDeploymentService } from '../../server/deployments/service.ts';
import { createDefinitionCache } from '../../server/instances/definitions.ts';
import { createExecutor } from '../../server/instances/executor.ts';
import { createInstanceService } from '../../server/instances/service.ts';
import { createJobService } from '../../server/jobs/service.ts';
import { createSqliteStore } from '../../server/store/sqlite/index.ts';
import type { Store } from '../../server/store/types.ts';
import { createTaskService } from '../../server/tasks/service.ts';

export const ADMIN: User = { name: 'demo', groups: ['admins'], roles: ['admin'] };
export const MANAGER: User = { name: 'mary', groups: ['managers'], roles: ['user'] };

/**
 * Wires Baton's services on a SQLite store in `dir` (kept), or in a new temporary directory
 * (removed at close), or on another store.
 */
export function inProcessBaton(dir?: string, other?: Store) {
  const dataDir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-'));
  const store = other ?? createSqliteStore(dataDir);
  const clock = (): Date => new Date();
  const log = pino({ level: 'silent' });
  const definitions = createDefinitionCache(store);
  let jobs: ReturnType<typeof createJobService> | null = null;
  const executor = createExecutor({ store, definitions, clock, log, onJobs: (topics) => jobs?.notify(topics), liveEngines: Number(process.env.BATON_LIVE_ENGINES ?? 64) });
  jobs = createJobService({ store, executor, definitions, clock, retryPolicy: { retries: 3, intervalsMs: [10_000] } });
  return {
    dataDir,
    store,
    deployments: createDeploymentService(store, clock),
    instances: createInstanceService(store, definitions, executor),
    tasks: createTaskService(store, executor),
    jobs,
    async close() {
      await store.close();
      if (!dir || other) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
