import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Executor } from '../instances/executor.ts';
import type { Store } from '../store/types.ts';

export interface TimerScheduler {
  /** fires every timer due now; returns how many instances were advanced */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

const BATCH = 100;
/** instances whose timers fire at the same time */
const CONCURRENCY = 8;

/**
 * Fires durable timers: finds instances with a due timer and resumes each with a compare-and-set,
 * so with several nodes a timer fires once (DESIGN.md, decision 4).
 */
export function createTimerScheduler(deps: { store: Store; executor: Executor; clock: () => Date; intervalMs: number; log: Logger }): TimerScheduler {
  const { store, executor, clock, intervalMs, log } = deps;
  let handle: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const fireOne = (instanceId: string): Promise<boolean> =>
    executor.transition(instanceId, (record) => {
      const due = record.status === 'running' && record.nextTimerAt !== null && record.nextTimerAt <= clock().toISOString();
      return due ? { action: { type: 'fireTimers' }, result: () => true } : { result: () => false };
    });

  /** fires the due timers of some instances, several at a time: their saves share the store's commits */
  const fireAll = async (instanceIds: string[]): Promise<number> => {
    const limit = pLimit(CONCURRENCY);
    const fired = await Promise.all(
      instanceIds.map((instanceId) =>
        limit(async () => {
          try {
            return await fireOne(instanceId);
          } catch (err) {
            log.error({ err, instanceId }, 'timer could not fire');
            return false;
          }
        }),
      ),
    );
    return fired.filter(Boolean).length;
  };

  const tick = async (): Promise<number> => {
    let fired = 0;
    for (;;) {
      const due = await store.findDueInstances(clock().toISOString(), BATCH);
      const progressed = await fireAll(due);
      fired += progressed;
      if (due.length < BATCH || !progressed) return fired;
    }
  };

  const loop = (delayMs: number): void => {
    handle = setTimeout(async () => {
      running = tick();
      await running.catch((err: unknown) => log.error({ err }, 'timer scheduler failed'));
      running = null;
      if (handle) loop(intervalMs);
    }, delayMs);
    handle.unref();
  };

  return {
    tick,
    start() {
      // timers that fell due while no server ran fire at once
      if (!handle) loop(0);
    },
    async stop() {
      if (handle) clearTimeout(handle);
      handle = null;
      await running?.catch(() => undefined);
    },
  };
}
