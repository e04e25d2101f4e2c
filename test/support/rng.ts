/**
 * The one seeded PRNG of the tests (mulberry32): every random split, mutation and fuzz case
 * is reproducible from its seed, so a failure replays.
 */
export type Rand = () => number;

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function rng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randInt(r: Rand, n: number): number {
  return Math.floor(r() * n);
}

/** Cut bytes at random points (some empty pieces included). */
export function randomSplit(bytes: Uint8Array, r: Rand, maxPiece = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = randInt(r, maxPiece + 1);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
