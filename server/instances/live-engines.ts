import { snapshotOf, type LiveEngine } from '../engine/runner.ts';
import type { InstanceRecord } from '../store/types.ts';

interface Entry {
  processKey: string;
  processVersion: number;
  engine: LiveEngine;
  keptAt: number;
}

/**
 * How long an engine is kept without its instance moving on: an engine takes 1.5–2.5 MB (bpmn-engine
 * builds every element of the process), worth it for an instance whose workers answer within
 * seconds, not for one that waits days for a manager.
 */
const IDLE_MS = 30_000;

/**
 * The engines of the instances that ran most recently in this process, kept in memory so that
 * their next event skips recovering the saved state (most of the cost of a transition besides the
 * engine's own work). An engine is used only when provably current: its state, variables and
 * timers equal the record just loaded from the store, so a change made by another node, a
 * transition that failed to save, or a change outside the engine all fall back to recovery.
 * At most `size` engines are kept (the least recently used are dropped), each for at most
 * IDLE_MS after its last event; 0 keeps none. Idle time is read on `clock`, Baton's one notion of
 * time: an engine idle past the window is never used, whether or not the sweep has run yet.
 */
export function createLiveEngines(size: number, clock: () => Date = () => new Date()) {
  const entries = new Map<string, Entry>();
  const idle = (entry: Entry): boolean => entry.keptAt <= clock().getTime() - IDLE_MS;
  /** drops the engines idle for too long (the map is in the order engines were kept) */
  const sweep = (): void => {
    for (const [id, entry] of entries) {
      if (!idle(entry)) break;
      entries.delete(id);
    }
  };
  const sweeper = size > 0 ? setInterval(sweep, IDLE_MS / 3).unref() : undefined;
  return {
    /** the live engine of `record` if it is current, taken out of the cache (the caller keeps it again once saved) */
    async take(record: InstanceRecord): Promise<LiveEngine | undefined> {
      const entry = entries.get(record.id);
      if (!entry) return undefined;
      entries.delete(record.id);
      if (idle(entry)) return undefined;
      if (entry.processKey !== record.processKey || entry.processVersion !== record.processVersion) return undefined;
      const current = (await entry.engine.snapshot()) === snapshotOf(record.state, record.variables, record.timers);
      return current ? entry.engine : undefined;
    },
    /** keeps the engine of a record that was just saved */
    keep(record: InstanceRecord, engine: LiveEngine | undefined): void {
      entries.delete(record.id);
      if (!engine || size <= 0 || record.status !== 'running') return;
      entries.set(record.id, { processKey: record.processKey, processVersion: record.processVersion, engine, keptAt: clock().getTime() });
      if (entries.size > size) entries.delete(entries.keys().next().value as string);
    },
    /** forgets the engine of an instance (a transition that did not save) */
    drop(instanceId: string): void {
      entries.delete(instanceId);
    },
    /** drops every kept engine and stops sweeping (the server closes) */
    close(): void {
      clearInterval(sweeper);
      entries.clear();
    },
  };
}
