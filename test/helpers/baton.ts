import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import pino from 'pino';
import { createBaton, type Baton } from '../../server/baton.ts';
import { readConfig } from '../../server/config.ts';
import { demoUsers, type StoredUser } from '../../server/auth/users.ts';
import type { ScriptLanguage } from '../../server/engine/scripts.ts';

/** The demo users' Basic credentials. */
export const DEMO = { user: 'demo', password: 'demo' };
export const MARY = { user: 'mary', password: 'mary' };
export const WORKER = { user: 'worker', password: 'worker' };
/** worker's API token in the tests: `Authorization: Bearer worker:<token>` */
export const WORKER_TOKEN = 'test-worker-token-5b1f0c2e9a7d4e38';

let cachedUsers: Promise<StoredUser[]> | null = null;

/** A Baton running in this process on a fresh data directory, with a clock the test moves. */
export interface TestBaton {
  baton: Baton;
  url: string;
  dataDir: string;
  /** the time Baton sees */
  now(): Date;
  /** moves Baton's clock forward by milliseconds */
  advance(ms: number): void;
  /** a supertest agent signed in as a user */
  as(credentials: { user: string; password: string }): Agent;
  anonymous(): supertest.Agent;
  close(): Promise<void>;
}

export type Agent = {
  get(url: string): supertest.Test;
  post(url: string): supertest.Test;
  put(url: string): supertest.Test;
  delete(url: string): supertest.Test;
};

/** Starts an in-process Baton on port 0 with the demo users (and any extra users and script languages). */
export async function startBaton(options: { users?: StoredUser[]; env?: Record<string, string>; scriptLanguages?: ScriptLanguage[] } = {}): Promise<TestBaton> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-test-'));
  const config = readConfig({
    PORT: '0',
    BATON_HOST: '127.0.0.1',
    BATON_DATA_DIR: dataDir,
    BATON_DEMO: 'users',
    BATON_TIMER_INTERVAL_MS: '3600000',
    // tests act as the workers of every topic; a test that wants the built-in connectors turns them on
    BATON_CONNECTORS: 'none',
    ...options.env,
  });
  cachedUsers ??= demoUsers({ workerToken: WORKER_TOKEN });
  const users = [...(await cachedUsers), ...(options.users ?? [])];
  let offset = 0;
  const now = (): Date => new Date(Date.now() + offset);
  const baton = await createBaton(config, { log: pino({ level: 'silent' }), users, clock: now, scriptLanguages: options.scriptLanguages ?? [] });
  const port = await baton.listen();
  const url = `http://127.0.0.1:${port}`;
  const as = ({ user, password }: { user: string; password: string }): Agent => {
    const agent = supertest(url);
    return {
      get: (u) => agent.get(u).auth(user, password),
      post: (u) => agent.post(u).auth(user, password),
      put: (u) => agent.put(u).auth(user, password),
      delete: (u) => agent.delete(u).auth(user, password),
    };
  };
  return {
    baton,
    url,
    dataDir,
    now,
    advance: (ms) => (offset += ms),
    as,
    anonymous: () => supertest.agent(url),
    async close() {
      await baton.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads a BPMN file of the project, relative to the repository root. */
export function readProcess(relative: string): string {
  return fs.readFileSync(path.join(import.meta.dirname, '../..', relative), 'utf8');
}

/** Deploys BPMN XML as a modeler uploads it (multipart) and returns the response body. */
export async function deploy(agent: Agent, xml: string, filename = 'process.bpmn'): Promise<{ id: string; processes: { key: string; version: number }[] }> {
  const res = await agent.post('/api/deployments').attach('file', Buffer.from(xml), filename).expect(201);
  return res.body;
}

/** Fetches and locks external tasks of a topic as a worker would, without waiting. */
export async function fetchTasks(agent: Agent, topicName: string, workerId = 'test-worker', maxTasks = 10, lockDuration = 60_000) {
  const res = await agent
    .post('/api/external-tasks/fetch-and-lock')
    .send({ workerId, maxTasks, topics: [{ topicName, lockDuration }] })
    .expect(200);
  return res.body as { id: string; instanceId: string; elementId: string; variables: Record<string, unknown>; retries: number | null }[];
}

/** A minimal process in BPMN with Camunda extensions: the body goes inside <process>. */
export function bpmn(processId: string, body: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_${processId}" targetNamespace="http://bpmn.io/schema/bpmn">
  ${extra}
  <bpmn:process id="${processId}" isExecutable="true">
${body}
  </bpmn:process>
</bpmn:definitions>`;
}
