import { parseDuration } from '@0dep/piso';

/**
 * How often a failing job is tried and how long Baton waits between tries. `retries` counts
 * attempts, as Camunda's job retries do: the job starts with `retries`, each failure takes one,
 * and at 0 the job becomes an incident. So "R3/PT10S" tries three times, 10 s apart.
 */
export interface RetryPolicy {
  retries: number;
  /** the wait after the 1st, 2nd, ... failure; the last one repeats */
  intervalsMs: number[];
}

const MAX_RETRIES = 100;

/**
 * Reads a retry cycle as Camunda's `failedJobRetryTimeCycle` writes it: `R<n>/<duration>`
 * ("R3/PT10S": three attempts, 10 s apart) or a list of waits ("PT10S,PT1M,PT10M": four attempts
 * with a growing back-off). Throws an Error naming what is wrong.
 */
export function parseRetryCycle(text: string): RetryPolicy {
  const source = text.trim();
  const repeat = /^R(\d+)\/(.+)$/.exec(source);
  if (repeat) {
    const retries = Number(repeat[1]);
    if (retries < 1 || retries > MAX_RETRIES) throw new Error(`"${source}": the number of attempts must be from 1 to ${MAX_RETRIES}`);
    return { retries, intervalsMs: [durationMs(repeat[2] ?? '', source)] };
  }
  if (/^R/.test(source)) throw new Error(`"${source}" is not R<attempts>/<ISO 8601 duration>, e.g. R3/PT10S`);
  const waits = source.split(',').map((part) => durationMs(part.trim(), source));
  if (!waits.length || waits.length >= MAX_RETRIES) throw new Error(`"${source}" needs 1 to ${MAX_RETRIES - 1} waits`);
  return { retries: waits.length + 1, intervalsMs: waits };
}

/** The wait after the given failure (1 for the first) under a policy. */
export function retryDelay(policy: RetryPolicy, failure: number): number {
  const { intervalsMs } = policy;
  return intervalsMs[Math.min(Math.max(failure, 1), intervalsMs.length) - 1] ?? 0;
}

function durationMs(text: string, source: string): number {
  if (!/^P/.test(text)) throw new Error(`"${source}": "${text}" is not an ISO 8601 duration such as PT10S`);
  let ms: number;
  try {
    ms = parseDuration(text).toMilliseconds(new Date(0));
  } catch (err) {
    throw new Error(`"${source}": ${(err as Error).message}`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`"${source}": "${text}" is not a duration`);
  if (ms > 30 * 86_400_000) throw new Error(`"${source}": waits of more than 30 days are not supported`);
  return ms;
}
