import { compileProcess, type CompiledProcess } from '../engine/definitions.ts';
import { NotFoundError } from '../errors.ts';
import type { ProcessVersion, Store } from '../store/types.ts';

/** Compiled versions kept; the least recently used beyond this are compiled again when needed. */
const CACHE_SIZE = 100;

/** Deployed process versions, compiled once and kept (the most recently used) while the server runs. */
export interface DefinitionCache {
  /** the newest version of a process (NotFoundError if none) */
  latest(key: string): Promise<ProcessVersion>;
  /** the compiled form of one version */
  compiled(key: string, version: number): Promise<CompiledProcess>;
}

export function createDefinitionCache(store: Store): DefinitionCache {
  const cache = new Map<string, Promise<CompiledProcess>>();
  return {
    async latest(key) {
      const version = await store.latestVersion(key);
      if (!version) throw new NotFoundError('process', key);
      return version;
    },
    compiled(key, version) {
      const id = `${key}@${version}`;
      let entry = cache.get(id);
      if (entry) {
        cache.delete(id);
        cache.set(id, entry);
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      } else {
        entry = store.getVersion(key, version).then((found) => {
          if (!found) throw new NotFoundError('process version', id);
          return compileProcess(found.xml, key);
        });
        entry.catch(() => cache.delete(id));
        cache.set(id, entry);
      }
      return entry;
    },
  };
}
