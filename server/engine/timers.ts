import type { Timer } from '../store/types.ts';

interface Entry {
  elementId: string;
  executionId: string;
  dueAt: number;
  callback: (...args: unknown[]) => void;
  args: unknown[];
}

/**
 * bpmn-engine's timers, made durable: a timer is never a Node setTimeout. Its due date is kept
 * with the instance and the scheduler loads the instance when it falls due, so a timer of any
 * length survives restarts, and time can be injected. A timer known from the saved instance keeps
 * its due date when the engine registers it again on resume.
 */
export function createDurableTimers(saved: Timer[], clock: () => Date, live: () => boolean) {
  const time = (): number => clock().getTime();
  const savedDue = new Map(saved.map((timer) => [timer.executionId, Date.parse(timer.dueAt)]));
  const entries = new Map<object, Entry>();
  let pending = 0;

  const fire = (ref: object): void => {
    const entry = entries.get(ref);
    if (!entry) return;
    entries.delete(ref);
    pending++;
    setImmediate(() => {
      pending--;
      entry.callback(...entry.args);
    });
  };

  const setTimer = (owner: { id?: string; executionId?: string } | null, callback: Entry['callback'], delay: number, args: unknown[]) => {
    const ref = { owner };
    const executionId = owner?.executionId ?? `timer-${entries.size}`;
    const dueAt = savedDue.get(executionId) ?? time() + Math.max(0, delay);
    entries.set(ref, { elementId: owner?.id ?? '', executionId, dueAt, callback, args });
    if (live() && dueAt <= time()) fire(ref);
    return ref;
  };

  const clearTimer = (ref: unknown): undefined => {
    if (ref && typeof ref === 'object') entries.delete(ref);
    return undefined;
  };

  return {
    /** the object given to bpmn-engine as its `timers` option */
    api: {
      register: (owner: { id?: string; executionId?: string }) => ({
        setTimeout: (callback: Entry['callback'], delay: number, ...args: unknown[]) => setTimer(owner, callback, delay, args),
        clearTimeout: clearTimer,
      }),
      setTimeout: (callback: Entry['callback'], delay: number, ...args: unknown[]) => setTimer(null, callback, delay, args),
      clearTimeout: clearTimer,
      get executing() {
        return [...entries.keys()];
      },
      /** the time the engine's timer event definitions count from (resumed-events.ts) */
      now: clock,
    },
    /** fires the timers due now, at most `max` of them; true when due ones are left for a next round */
    fireDue(max = Number.POSITIVE_INFINITY): boolean {
      const now = time();
      let fired = 0;
      for (const [ref, entry] of entries) {
        if (entry.dueAt > now) continue;
        if (fired === max) return true;
        fire(ref);
        fired++;
      }
      return false;
    },
    /** when the next timer falls due (epoch ms), or null without timers */
    nextDue(): number | null {
      let next: number | null = null;
      for (const entry of entries.values()) if (next === null || entry.dueAt < next) next = entry.dueAt;
      return next;
    },
    /** drops the timer of an execution that ended */
    forget(executionId: string): void {
      for (const [ref, entry] of entries) if (entry.executionId === executionId) entries.delete(ref);
    },
    /** the timers still waiting */
    pending(): Timer[] {
      return [...entries.values()]
        .filter((entry) => entry.elementId)
        .map((entry) => ({ elementId: entry.elementId, executionId: entry.executionId, dueAt: new Date(entry.dueAt).toISOString() }));
    },
    /** resolves when no timer callback is queued and the engine has gone quiet */
    async settle(): Promise<void> {
      do await new Promise((resolve) => setImmediate(resolve));
      while (pending > 0);
    },
  };
}
