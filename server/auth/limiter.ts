/**
 * Throttles secret guessing without letting a guesser lock anyone out (README, "Sign-in limits").
 *
 * Per account and address: the first `freeFailures` failures cost nothing; from then on each
 * failure doubles the wait before that pair may try again (`baseDelayMs`, twice that, … up to
 * `maxDelayMs`). A try within the wait is refused (429 with Retry-After) without its secret being
 * checked; a success clears the pair; a pair that stays quiet for `pairMemoryMs` is forgotten.
 * Nothing here counts per account alone: the right secret from an address without failures for
 * that account is always checked, however many addresses guess at it.
 *
 * Per address, a softer bound against one address trying many names: once an address failed
 * `addressFailures` times within `addressWindowMs`, it gets one check every `addressIntervalMs`
 * (the others are refused with Retry-After) until that window ends. Accounts that signed in from
 * that address within `pairMemoryMs` are exempt: people behind the same address keep working.
 *
 * Memory is bounded: at most `MAX_KEYS` pairs and addresses are remembered.
 */
export interface SignInLimits {
  /** failures of one account from one address before delays start */
  freeFailures: number;
  /** the first delay; each further failure doubles it */
  baseDelayMs: number;
  maxDelayMs: number;
  /** how long a pair's failures, or its last success, are remembered */
  pairMemoryMs: number;
  /** failures from one address, any accounts, before the address is slowed */
  addressFailures: number;
  addressWindowMs: number;
  /** a slowed address gets one check per interval (known accounts exempt) */
  addressIntervalMs: number;
}

/** Passwords: 5 free failures, then 1 s, 2 s, 4 s … at most 15 min; a slowed address checks one password a second. */
export const PASSWORD_LIMITS: SignInLimits = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  pairMemoryMs: 60 * 60_000,
  addressFailures: 50,
  addressWindowMs: 15 * 60_000,
  addressIntervalMs: 1000,
};

/**
 * API tokens are random and long, so guessing one is hopeless: no delays per account (a worker
 * stays up whatever is sent in its name); only the work an address causes with wrong tokens
 * is bounded.
 */
export const TOKEN_LIMITS: SignInLimits = { ...PASSWORD_LIMITS, freeFailures: Infinity, addressFailures: 20 };

export interface SignInLimiter {
  /** seconds until this account may be checked from this address, or 0: then the check may go ahead (and uses the address's slot) */
  admit(name: string, address: string | undefined): number;
  /** counts a failed check */
  failed(name: string, address: string | undefined): void;
  /** a successful check clears the pair's failures and exempts it from its address's bound */
  succeeded(name: string, address: string | undefined): void;
}

const MAX_KEYS = 100_000;

interface PairEntry {
  failures: number;
  /** time of the last failure, or of the success that made the pair known */
  last: number;
  known: boolean;
}

interface AddressEntry {
  failures: number;
  windowEnds: number;
  nextCheckAt: number;
}

/** A map that forgets expired entries first, then the oldest, once it holds `MAX_KEYS`. */
function boundedMap<V>(expired: (value: V) => boolean) {
  const map = new Map<string, V>();
  return {
    get(key: string): V | undefined {
      const value = map.get(key);
      if (value && expired(value)) {
        map.delete(key);
        return undefined;
      }
      return value;
    },
    set(key: string, value: V): void {
      if (!map.has(key) && map.size >= MAX_KEYS) {
        for (const [old, held] of map) if (expired(held)) map.delete(old);
        if (map.size >= MAX_KEYS) map.delete(map.keys().next().value as string);
      }
      map.delete(key);
      map.set(key, value);
    },
    delete: (key: string) => map.delete(key),
  };
}

/** A limiter with its own memory; `now` is the clock it reads (tests move it). */
export function createSignInLimiter(limits: SignInLimits = PASSWORD_LIMITS, now: () => number = Date.now): SignInLimiter {
  const pairs = boundedMap<PairEntry>((entry) => now() - entry.last >= limits.pairMemoryMs);
  const addresses = boundedMap<AddressEntry>((entry) => entry.windowEnds <= now());
  const pairKey = (name: string, address: string | undefined): string => `${address ?? ''}\0${name}`;
  const delay = (failures: number): number =>
    failures <= limits.freeFailures ? 0 : Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.min(failures - limits.freeFailures - 1, 40));
  const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

  return {
    admit(name, address) {
      const pair = pairs.get(pairKey(name, address));
      const pairReady = pair && !pair.known ? pair.last + delay(pair.failures) : 0;
      if (pairReady > now()) return seconds(pairReady - now());
      const slowed = address === undefined || pair?.known ? undefined : addresses.get(address);
      if (slowed && slowed.failures >= limits.addressFailures) {
        if (slowed.nextCheckAt > now()) return seconds(slowed.nextCheckAt - now());
        slowed.nextCheckAt = now() + limits.addressIntervalMs;
      }
      return 0;
    },
    failed(name, address) {
      const key = pairKey(name, address);
      const pair = pairs.get(key);
      pairs.set(key, { failures: (pair?.known ? 0 : (pair?.failures ?? 0)) + 1, last: now(), known: false });
      if (address === undefined) return;
      const entry = addresses.get(address);
      if (entry) entry.failures++;
      else addresses.set(address, { failures: 1, windowEnds: now() + limits.addressWindowMs, nextCheckAt: 0 });
    },
    succeeded(name, address) {
      pairs.set(pairKey(name, address), { failures: 0, last: now(), known: true });
    },
  };
}
