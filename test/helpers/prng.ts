/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from the environment variable, or a fresh random one. */
export function seedFrom(name: string): number {
  return process.env[name] ? Number(process.env[name]) : Math.floor(Math.random() * 2 ** 31);
}
