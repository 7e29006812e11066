/**
 * Instance states: one immutable document per saved revision (documents.ts), found by `_id` only.
 *
 * FerretDB 1.x on SQLite finds even a single `_id` by scanning its whole table: its WHERE clause
 * (`_ferretdb_sjson->'$._id'`) is not the expression of its own `_id` index (`->"_id"`), so
 * SQLite parses every row's JSON for each lookup, replace and delete (measured: 12 ms for one
 * state among 300 of 20 KB). So states are deflated (~7x smaller), a save deletes the state it
 * replaces, and states read or written here are cached: a state never changes, so a cached one
 * is never stale, and a node that just saved an instance reads it back without a lookup.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { type InstanceState, type StateDoc, packText, unpackText } from './documents.ts';

export interface StateStore {
  /** Writes the state of `revision` under a fresh id (never another writer's) and returns the id. */
  write(instanceId: string, revision: number, state: InstanceState): Promise<string>;
  /** A copy of the state, or null when its document is gone: the instance moved on and its next save deleted it. */
  read(stateId: string): Promise<InstanceState | null>;
  /** Deletes a state no instance names any longer (best effort: an unnamed state is invisible anyway). */
  drop(stateId: string): Promise<void>;
}

/** Keeps the JSON text of recently used states, up to a number of characters in all. */
function createCache(maxChars: number) {
  const texts = new Map<string, string>();
  let chars = 0;
  return {
    get(id: string): string | undefined {
      const text = texts.get(id);
      if (text !== undefined) {
        // most recently used last
        texts.delete(id);
        texts.set(id, text);
      }
      return text;
    },
    set(id: string, text: string): void {
      if (text.length > maxChars || texts.has(id)) return;
      texts.set(id, text);
      chars += text.length;
      for (const [oldest, old] of texts) {
        if (chars <= maxChars) break;
        texts.delete(oldest);
        chars -= old.length;
      }
    },
    delete(id: string): void {
      const text = texts.get(id);
      if (text === undefined) return;
      texts.delete(id);
      chars -= text.length;
    },
  };
}

/** States in `states`, the JSON text of up to `cacheChars` characters of them cached. */
export function createStateStore(states: Collection<StateDoc>, cacheChars = 16_000_000): StateStore {
  const cache = createCache(cacheChars);
  return {
    async write(instanceId, revision, state) {
      const _id = `${instanceId}:${revision}:${randomUUID()}`;
      const text = JSON.stringify(state);
      await states.insertOne({ _id, instanceId, revision, data: await packText(text) });
      cache.set(_id, text);
      return _id;
    },

    async read(stateId) {
      let text = cache.get(stateId);
      if (text === undefined) {
        const doc = await states.findOne({ _id: stateId });
        if (!doc) return null;
        text = await unpackText(doc.data);
        cache.set(stateId, text);
      }
      return JSON.parse(text) as InstanceState;
    },

    async drop(stateId) {
      cache.delete(stateId);
      await states.deleteOne({ _id: stateId }).catch(() => undefined);
    },
  };
}
