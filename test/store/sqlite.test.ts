/** The embedded SQLite store passes the store contract, each case on a fresh data directory. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../server/store/sqlite/index.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-store-'));
  const store = createSqliteStore(dataDir);
  return {
    store,
    async cleanup() {
      await store.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('sqlite store: a database made before view-only deployments', () => {
  it('gains the view_only column and reads its versions as executable', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-store-'));
    const old = new Database(path.join(dataDir, 'baton.db'));
    old.exec(`CREATE TABLE process_versions (key TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL,
      deployment_id TEXT NOT NULL, deployed_at TEXT NOT NULL, xml TEXT NOT NULL, PRIMARY KEY (key, version))`);
    old.prepare("INSERT INTO process_versions VALUES ('order', 1, 'Order', 'h1', 'd-1', '2026-01-01T00:00:00.000Z', '<xml/>')").run();
    old.close();
    const store = createSqliteStore(dataDir);
    try {
      const stored = await store.getVersion('order', 1);
      assert.equal(stored?.name, 'Order');
      assert.equal(stored?.viewOnly, undefined);
      const viewed = { ...stored!, version: 2, hash: 'h2', deploymentId: 'd-2', viewOnly: true };
      await store.saveDeployment({ id: 'd-2', name: 'again', deployedAt: viewed.deployedAt, deployedBy: 'demo', processes: [] }, [viewed]);
      assert.deepEqual(await store.latestVersion('order'), viewed);
    } finally {
      await store.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
