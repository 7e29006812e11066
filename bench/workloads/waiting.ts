/** The data W3 and W4 share: a SQLite store with many instances waiting at "Approve bonus". */
import { makeDataDir, removeDataDir } from '../../test/helpers/server-process.ts';
import { seedWaiting } from '../lib/seed.ts';
import { progress, scaled } from '../lib/scale.ts';

export interface WaitingData {
  dataDir: string;
  instances: number;
  seed: { seconds: number; real: number; copied: number };
}

let prepared: Promise<WaitingData> | null = null;

/** Seeds the waiting instances once per bench run (100,000 at scale 1); removed when the run ends. */
export function waitingData(scale: number): Promise<WaitingData> {
  prepared ??= (async () => {
    const dataDir = makeDataDir();
    process.once('exit', () => removeDataDir(dataDir));
    const instances = scaled(100_000, scale, 1000);
    const real = scaled(200, scale, 20);
    progress(`seeding ${instances} waiting instances (${real} through the engine, the rest copied through the store API)`);
    const seed = await seedWaiting(dataDir, instances, real);
    progress(`seeded in ${Math.round(seed.seconds)} s`);
    return { dataDir, instances, seed };
  })();
  return prepared;
}
