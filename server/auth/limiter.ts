/**
 * Failed sign-ins, counted per user name and per client address in a fixed window. Once a key
 * has too many failures it is refused (429 with Retry-After) until its window ends, whether the
 * next secret is right or not: guessing stops being worth it. Memory is bounded.
 */
export interface SignInLimits {
  /** failures of one user name within the window before it is refused */
  perUser: number;
  /** failures from one address within the window before it is refused */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LIMITS: SignInLimits = { perUser: 10, perAddress: 50, windowMs: 15 * 60_000 };

export interface SignInLimiter {
  /** seconds until the user or address may try again, or 0 when they may try now */
  blockedFor(name: string, address: string | undefined): number;
  /** counts a failed sign-in */
  failed(name: string, address: string | undefined): void;
  /** a successful sign-in clears the user's failures (not the address's) */
  succeeded(name: string): void;
}

const MAX_KEYS = 100_000;

export function createSignInLimiter(limits: SignInLimits = DEFAULT_LIMITS, now: () => number = Date.now): SignInLimiter {
  const windows = new Map<string, { count: number; until: number }>();
  const keys = (name: string, address: string | undefined): [string, number][] => [
    [`user:${name}`, limits.perUser],
    ...(address ? ([[`addr:${address}`, limits.perAddress]] as [string, number][]) : []),
  ];
  const current = (key: string): { count: number; until: number } | undefined => {
    const entry = windows.get(key);
    if (entry && entry.until <= now()) {
      windows.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    blockedFor(name, address) {
      let wait = 0;
      for (const [key, max] of keys(name, address)) {
        const entry = current(key);
        if (entry && entry.count >= max) wait = Math.max(wait, Math.ceil((entry.until - now()) / 1000));
      }
      return wait;
    },
    failed(name, address) {
      for (const [key] of keys(name, address)) {
        const entry = current(key);
        if (entry) entry.count++;
        else {
          if (windows.size >= MAX_KEYS) {
            for (const [old, value] of windows) if (value.until <= now()) windows.delete(old);
            if (windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value as string);
          }
          windows.set(key, { count: 1, until: now() + limits.windowMs });
        }
      }
    },
    succeeded(name) {
      windows.delete(`user:${name}`);
    },
  };
}
