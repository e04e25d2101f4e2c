/**
 * The seeded mutation fuzzer: mutation operators, and a runner that feeds each mutated input
 * to a set of decoders and allows exactly one exception type, DecodeError. Anything else is
 * reported with what it takes to replay it: the seed, the case number, the decoder, the
 * mutations applied and the input's hex. Each case draws from its own PRNG, seeded from
 * (seed, case), so one case replays without running the ones before it.
 */
import { DecodeError } from '../../codecs/util/errors.js';
import { toHex } from '../../codecs/util/hex.js';
import { randInt, rng, type Rand } from '../support/rng.js';
import type { LengthField } from './length-fields.js';

/** Default seed; WEFT_FUZZ_SEED (decimal or 0x hex) replaces it to explore or to replay. */
export const FUZZ_SEED = Number(process.env['WEFT_FUZZ_SEED'] ?? 0x5eed_f022);

export type { Rand };

export function caseRng(seed: number, caseNo: number): Rand {
  // A multiplicative mix, so neighbouring cases do not start from neighbouring states.
  return rng((seed ^ Math.imul(caseNo + 1, 0x9e3779b1)) >>> 0);
}

export const int = randInt;

/** Values that hit the edges of a length check. */
function corruptValue(r: Rand, v: number, max: number): number {
  switch (int(r, 9)) {
    case 0:
      return v + 1;
    case 1:
      return v - 1;
    case 2:
      return v + int(r, 17) - 8;
    case 3:
      return 0;
    case 4:
      return max;
    case 5:
      return v * 2;
    case 6:
      return v >> 1;
    case 7:
      return max - int(r, 4);
    default:
      return int(r, max + 1);
  }
}

function readField(b: Uint8Array, f: LengthField): number {
  const p = f.at;
  if (f.nibble === 'lo') return b[p]! & 15;
  if (f.nibble === 'hi') return b[p]! >> 4;
  if (f.size === 1) return b[p]!;
  if (f.size === 2) return f.le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  return f.le ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000 : b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function writeField(b: Uint8Array, f: LengthField, v: number): void {
  const p = f.at;
  if (f.nibble === 'lo') b[p] = (b[p]! & 0xf0) | (v & 15);
  else if (f.nibble === 'hi') b[p] = (b[p]! & 0x0f) | ((v & 15) << 4);
  else if (f.size === 1) b[p] = v & 0xff;
  else {
    for (let i = 0; i < f.size; i++) {
      const shift = 8 * (f.le ? i : f.size - 1 - i);
      b[p + i] = Math.floor((v >>> 0) / 2 ** shift) & 0xff;
    }
  }
}

/**
 * Apply 1-3 mutations to a copy of `src`. With `fields`, about half the cases corrupt one of
 * them (the length fields the input is known to have). Returns the input and what was done.
 */
export function mutate(src: Uint8Array, r: Rand, fields: readonly LengthField[] = []): { bytes: Uint8Array; ops: string[] } {
  let b = Uint8Array.from(src);
  const ops: string[] = [];
  const n = 1 + int(r, 3);
  for (let k = 0; k < n; k++) {
    const pick = fields.length > 0 && r() < 0.5 ? 5 : int(r, 5);
    switch (pick) {
      case 0: {
        if (b.length === 0) break;
        const at = int(r, b.length);
        const bit = int(r, 8);
        b[at] = b[at]! ^ (1 << bit);
        ops.push(`flip ${at}.${bit}`);
        break;
      }
      case 1: {
        if (b.length === 0) break;
        const at = int(r, b.length);
        const v = r() < 0.5 ? [0x00, 0xff, 0x7f, 0x80, 0x01][int(r, 5)]! : int(r, 256);
        b[at] = v;
        ops.push(`set ${at}=${v}`);
        break;
      }
      case 2: {
        const len = int(r, b.length + 1);
        b = b.slice(0, len);
        ops.push(`truncate ${len}`);
        break;
      }
      case 3: {
        const extra = 1 + int(r, 32);
        const c = new Uint8Array(b.length + extra);
        c.set(b);
        for (let i = b.length; i < c.length; i++) c[i] = r() < 0.3 ? 0xff : int(r, 256);
        b = c;
        ops.push(`extend ${extra}`);
        break;
      }
      case 4: {
        // Remove a range (shifts every later field: lengths now lie about what follows).
        if (b.length === 0) break;
        const at = int(r, b.length);
        const len = 1 + int(r, 8);
        const end = Math.min(b.length, at + len);
        const c = new Uint8Array(b.length - (end - at));
        c.set(b.subarray(0, at));
        c.set(b.subarray(end), at);
        b = c;
        ops.push(`cut ${at}+${len}`);
        break;
      }
      default: {
        const f = fields[int(r, fields.length)]!;
        const width = f.nibble ? 4 : f.size * 8;
        if (f.at + (f.nibble ? 1 : f.size) > b.length) break;
        const max = 2 ** width - 1;
        const old = readField(b, f);
        const v = Math.min(max, Math.max(0, corruptValue(r, old, max)));
        writeField(b, f, v);
        ops.push(`${f.name}@${f.at} ${old}->${v}`);
      }
    }
  }
  return { bytes: b, ops };
}

export interface Tally {
  /** Decoder calls that returned a value. */
  ok: number;
  /** Decoder calls that threw DecodeError. */
  rejected: number;
}

export function tally(): Tally {
  return { ok: 0, rejected: 0 };
}

/**
 * Error construction captures a stack trace, which is most of what a rejected input costs;
 * the fuzz turns that off while it runs (DecodeErrors are counted, never printed) and `exercise`
 * turns it back on to report an unexpected exception. Returns the function that restores it.
 */
export function quietStacks(): () => void {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return () => {
    Error.stackTraceLimit = saved;
  };
}

export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

/**
 * Calls `decode(input)`; counts a value or a DecodeError, turns anything else into a
 * FuzzFailure naming everything needed to replay it.
 */
export function exercise(t: Tally, seed: number, caseNo: number, decoder: string, ops: readonly string[], input: Uint8Array | string, decode: () => unknown): unknown {
  try {
    const v = decode();
    t.ok++;
    return v;
  } catch (e) {
    if (e instanceof DecodeError) {
      t.rejected++;
      return undefined;
    }
    let what = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : `non-Error thrown: ${String(e)}`;
    // The fuzz runs without stack traces (see quietStacks); decoders are pure, so run the
    // failing call again with them to show where it went wrong.
    if (Error.stackTraceLimit === 0) {
      Error.stackTraceLimit = 20;
      try {
        decode();
      } catch (again) {
        if (again instanceof Error) what = `${again.name}: ${again.message}\n${again.stack ?? ''}`;
      } finally {
        Error.stackTraceLimit = 0;
      }
    }
    const hex = typeof input === 'string' ? JSON.stringify(input) : toHex(input);
    throw new FuzzFailure(
      `seed 0x${seed.toString(16)} case ${caseNo} decoder ${decoder} mutations [${ops.join('; ')}] threw ${what}\n` +
        `replay: WEFT_FUZZ_SEED=0x${seed.toString(16)}, case ${caseNo}\ninput (${input.length} ${typeof input === 'string' ? 'chars' : 'bytes'}): ${hex}`,
    );
  }
}
