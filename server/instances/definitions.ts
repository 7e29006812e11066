import { compileProcess, type CompiledProcess } from '../engine/definitions.ts';
import { viewOnlyReasons } from '../engine/import/view-only.ts';
import { NO_SCRIPTS, type ScriptLanguages } from '../engine/scripts.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { ProcessVersion, Store } from '../store/types.ts';

/** Compiled versions kept; the least recently used beyond this are compiled again when needed. */
const CACHE_SIZE = 100;

/** Deployed process versions, compiled once and kept (the most recently used) while the server runs. */
export interface DefinitionCache {
  /** the newest version of a process (NotFoundError if none) */
  latest(key: string): Promise<ProcessVersion>;
  /** the compiled form of one version; a version deployed with view-only is refused with its reasons */
  compiled(key: string, version: number): Promise<CompiledProcess>;
}

export function createDefinitionCache(store: Store, scripts: ScriptLanguages = NO_SCRIPTS): DefinitionCache {
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
        entry = store.getVersion(key, version).then(async (found) => {
          if (!found) throw new NotFoundError('process version', id);
          if (found.viewOnly) {
            const reasons = await viewOnlyReasons(found.xml, key, scripts);
            const why = reasons.slice(1, 4).map((reason) => reason.message).join('; ');
            throw new ValidationError(`process <${key}> version ${version} is deployed for viewing only${why ? `: ${why}` : ''}`, reasons);
          }
          return compileProcess(found.xml, key);
        });
        entry.catch(() => cache.delete(id));
        cache.set(id, entry);
      }
      return entry;
    },
  };
}
