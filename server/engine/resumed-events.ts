import { ISOInterval, getDate } from '@0dep/piso';
import * as Elements from 'bpmn-elements';

/**
 * Catch events that take no step while an instance is recovered. A run on a recovered engine
 * must record what a run on the engine kept in memory records (runner.ts): bpmn-elements re-runs
 * what waits when it resumes the saved state, and a timer found overdue completed there, a
 * condition found true fired there — steps taken while the runner replays, so history lost them
 * (and a timer fired before the event that loaded the instance, which a kept engine never does).
 * Here a resumed event only waits again; what happens next happens in the run itself: timers fall
 * due through Baton's durable timers (timers.ts), conditions are evaluated after each run.
 * Timers also read Baton's clock, not the machine's: one notion of time for due dates and firing.
 */

interface ExecuteMessage {
  fields: { redelivered?: boolean; routingKey?: string };
  content: Record<string, unknown>;
}

interface Environment {
  timers: { now?: () => Date };
}

type TimerBase = new (activity: unknown, definition: unknown) => {
  environment: Environment;
  _getTimers(message: ExecuteMessage): { expireAt?: Date; timeout?: number };
};
const library = Elements as unknown as { TimerEventDefinition: TimerBase; ConditionalEventDefinition: ConditionalBase };

/** The time the engine's timers see: the run's clock when Baton gave one. */
const nowOf = (environment: Environment): Date => environment.timers.now?.() ?? new Date();

/** A timer event definition on Baton's clock that never completes while it is resumed. */
export class TimerEventDefinition extends library.TimerEventDefinition {
  /** when a timer value expires, counted from Baton's clock (bpmn-elements reads the machine's) */
  parse(timerType: string, value: string): { expireAt?: Date; repeat?: number; delay?: number } {
    const now = nowOf(this.environment);
    if (timerType === 'timeDate') {
      const expireAt = getDate(value);
      return { expireAt, delay: expireAt.getTime() - now.getTime() };
    }
    const interval = new ISOInterval(value).parse();
    const expireAt = interval.getExpireAt(now, now);
    return { expireAt, delay: expireAt.getTime() - now.getTime(), ...(interval.repeat ? { repeat: interval.repeat } : {}) };
  }

  override _getTimers(message: ExecuteMessage): { expireAt?: Date; timeout?: number } {
    const result = super._getTimers(message);
    if (result.expireAt) result.timeout = result.expireAt.getTime() - nowOf(this.environment).getTime();
    // resumed, an overdue timer waits for Baton's durable timer (its saved due date) to fire it
    if (message.fields.redelivered && (result.timeout ?? 0) <= 0) result.timeout = 1;
    return result;
  }
}

type ConditionalBase = new (activity: unknown, definition: unknown, context: unknown, index: number) => {
  execute(message: ExecuteMessage): unknown;
  _setup(message: ExecuteMessage): unknown;
};

const kExecuteMessage = Symbol.for('executeMessage');

/** A conditional event definition whose condition is not evaluated while it is resumed. */
export class ConditionalEventDefinition extends library.ConditionalEventDefinition {
  override execute(message: ExecuteMessage): unknown {
    if (!message.fields.redelivered) return super.execute(message);
    (this as unknown as Record<symbol, unknown>)[kExecuteMessage] = message;
    return this._setup(message);
  }
}
