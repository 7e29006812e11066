/** The embedded SQLite store passes the store contract, each case on a fresh data directory. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
