/**
 * Declarative schemas: each turns an input node into a typed value or reports why not, and
 * keeps going so one pass finds every problem. Nothing is returned unless the whole input is
 * valid (the loaders check), which is what makes a config apply entirely or not at all.
 *
 * Object keys are written as users type them (kebab-case); the typed value uses the camelCase
 * form (`remote-as` -> `remoteAs`), in the types too.
 */
import { formatPath } from './issues.js';
import type { ConfigIssue, PathSeg, Pos } from './issues.js';
import type { InputNode, ScalarValue } from './input.js';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** Where a schema is in the input, and where it reports. */
export class Context {
  constructor(
    readonly issues: ConfigIssue[],
    readonly path: readonly PathSeg[] = [],
    readonly source?: string,
  ) {}

  at(seg: PathSeg): Context {
    return new Context(this.issues, [...this.path, seg], this.source);
  }

  report(pos: Pos | undefined, message: string, path: readonly PathSeg[] = this.path): Invalid {
    const issue: ConfigIssue = { path: formatPath(path), message };
    if (this.source !== undefined) issue.source = this.source;
    if (pos) {
      issue.line = pos.line;
      issue.col = pos.col;
    }
    this.issues.push(issue);
    return INVALID;
  }
}

export interface Schema<T> {
  /** What a valid value looks like ('an integer 1..65535'); used in messages and docs. */
  readonly expected: string;
  parse(node: InputNode, cx: Context): T | Invalid;
}

/* ---------- scalars ---------- */

function scalar(node: InputNode): ScalarValue | Invalid {
  return node.kind === 'scalar' ? node.value : INVALID;
}

export function string(opts: { minLength?: number; maxLength?: number } = {}): Schema<string> {
  const min = opts.minLength ?? 0;
  const max = opts.maxLength ?? Infinity;
  const expected = min > 0 ? 'a non-empty string' : 'a string';
  return {
    expected,
    parse(node, cx) {
      const v = scalar(node);
      if (typeof v !== 'string') return cx.report(node.pos, `must be ${expected}`);
      if (v.length < min) return cx.report(node.pos, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
      if (v.length > max) return cx.report(node.pos, `must be at most ${max} characters`);
      return v;
    },
  };
}

/** Integers only: 90.5, "90" and true are all rejected. */
export function int(min: number, max: number): Schema<number> {
  const expected = `an integer ${min}..${max}`;
  return {
    expected,
    parse(node, cx) {
      const v = scalar(node);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return cx.report(node.pos, `must be ${expected}`);
      return v + 0; // -0 -> 0
    },
  };
}

export function bool(): Schema<boolean> {
  return {
    expected: 'true or false',
    parse(node, cx) {
      const v = scalar(node);
      return typeof v === 'boolean' ? v : cx.report(node.pos, 'must be true or false');
    },
  };
}

export function oneOf<const V extends string>(values: readonly V[]): Schema<V> {
  const expected = `one of: ${values.join(', ')}`;
  return {
    expected,
    parse(node, cx) {
      const v = scalar(node);
      return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as V) : cx.report(node.pos, `must be ${expected}`);
    },
  };
}

/**
 * A string checked (and possibly normalised) by `fn`, which throws or returns undefined on bad
 * input. For addresses, prefixes, route targets: the parser already exists elsewhere.
 */
export function textOf<T>(expected: string, fn: (s: string) => T | undefined, message = `must be ${expected}`): Schema<T> {
  return {
    expected,
    parse(node, cx) {
      const v = scalar(node);
      if (typeof v !== 'string') return cx.report(node.pos, message);
      let out: T | undefined;
      let why: string | undefined;
      try {
        out = fn(v);
      } catch (e) {
        why = e instanceof ValueError ? e.message : undefined;
      }
      if (out === undefined) return cx.report(node.pos, why ?? message);
      return out;
    },
  };
}

/** Thrown by a `textOf` parser to replace the generic message with a precise one. */
export class ValueError extends Error {}

/* ---------- containers ---------- */

export function list<T>(item: Schema<T>, opts: { min?: number; max?: number; unique?: (v: T) => string } = {}): Schema<T[]> {
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    parse(node, cx) {
      if (node.kind !== 'seq') return cx.report(node.pos, 'must be a list');
      const out: T[] = [];
      let ok = true;
      const seen = new Map<string, number>();
      node.items.forEach((n, i) => {
        const icx = cx.at(i);
        const v = item.parse(n, icx);
        if (v === INVALID) {
          ok = false;
          return;
        }
        if (opts.unique) {
          const k = opts.unique(v);
          const first = seen.get(k);
          if (first !== undefined) {
            icx.report(n.pos, `duplicate of ${formatPath([...cx.path, first])}`);
            ok = false;
            return;
          }
          seen.set(k, i);
        }
        out.push(v);
      });
      if (opts.min !== undefined && node.items.length < opts.min) {
        ok = false;
        cx.report(node.pos, opts.min === 1 ? 'must not be empty' : `must have at least ${opts.min} items`);
      }
      if (opts.max !== undefined && node.items.length > opts.max) {
        ok = false;
        cx.report(node.pos, `must have at most ${opts.max} items`);
      }
      return ok ? out : INVALID;
    },
  };
}

/** A mapping with keys chosen by the user (policy names...): Record<string, T>. */
export function record<T>(value: Schema<T>, opts: { key?: Schema<string> } = {}): Schema<Record<string, T>> {
  const expected = `a mapping of ${value.expected}`;
  return {
    expected,
    parse(node, cx) {
      if (node.kind !== 'map') return cx.report(node.pos, 'must be a mapping');
      const out: Record<string, T> = {};
      let ok = true;
      for (const e of node.entries) {
        const ecx = cx.at(e.key);
        if (opts.key && opts.key.parse({ kind: 'scalar', value: e.key, ...(e.keyPos ? { pos: e.keyPos } : {}) }, ecx) === INVALID) {
          ok = false;
          continue;
        }
        if (Object.prototype.hasOwnProperty.call(out, e.key)) {
          // JSON bodies can repeat keys only through JSON.parse, which keeps the last; YAML
          // rejects duplicates before this. Kept for input trees built by hand.
          ecx.report(e.keyPos ?? node.pos, 'duplicate key');
          ok = false;
          continue;
        }
        const v = value.parse(e.value, ecx);
        if (v === INVALID) ok = false;
        else defineField(out, e.key, v);
      }
      return ok ? out : INVALID;
    },
  };
}

/* ---------- objects ---------- */

export type FieldMode = 'required' | 'optional' | 'default';

export interface Field<T, M extends FieldMode = FieldMode> {
  readonly schema: Schema<T>;
  readonly mode: M;
  /** For mode 'default': the value when the key is absent (called each time: no shared arrays). */
  readonly fallback?: () => T;
  /** For mode 'default' when no fallback: parse an empty mapping/list instead (nested defaults). */
  readonly emptyInput?: InputNode;
}

export function required<T>(schema: Schema<T>): Field<T, 'required'> {
  return { schema, mode: 'required' };
}

export function optional<T>(schema: Schema<T>): Field<T, 'optional'> {
  return { schema, mode: 'optional' };
}

/** Absent keys take `value` (copied from a function for lists and objects). */
export function withDefault<T>(schema: Schema<T>, value: T | (() => T)): Field<T, 'default'> {
  const fallback = typeof value === 'function' ? (value as () => T) : () => value;
  return { schema, mode: 'default', fallback };
}

/** An absent object (or list) section is read as `{}` (or `[]`), so its own defaults apply. */
export function defaultsOf<T>(schema: Schema<T>, empty: 'map' | 'seq' = 'map'): Field<T, 'default'> {
  return { schema, mode: 'default', emptyInput: empty === 'map' ? { kind: 'map', entries: [] } : { kind: 'seq', items: [] } };
}

type KebabToCamel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<KebabToCamel<T>>}` : S;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type AnyFields = Record<string, Field<any, FieldMode>>;
type FieldValue<F> = F extends Field<infer T, FieldMode> ? T : never;

export type ObjectOf<F extends AnyFields> = Simplify<
  { [K in keyof F as F[K] extends Field<any, 'optional'> ? never : KebabToCamel<K & string>]: FieldValue<F[K]> } & {
    [K in keyof F as F[K] extends Field<any, 'optional'> ? KebabToCamel<K & string> : never]?: FieldValue<F[K]>;
  }
>;

export type Infer<S> = S extends Schema<infer T> ? T : never;

export function camelCase(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '-' && i + 1 < key.length) out += key[++i]!.toUpperCase();
    else out += c;
  }
  return out;
}

/** Strict mappings: unknown keys are errors (a misspelt key silently ignored is a classic outage). */
export function object<F extends AnyFields>(fields: F): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const props = names.map(camelCase);
  return {
    expected: 'a mapping',
    parse(node, cx) {
      if (node.kind !== 'map') return cx.report(node.pos, 'must be a mapping');
      const out: Record<string, unknown> = {};
      let ok = true;
      const byKey = new Map<string, InputNode>();
      for (const e of node.entries) {
        if (!Object.prototype.hasOwnProperty.call(fields, e.key)) {
          const hint = suggest(e.key, names);
          cx.at(e.key).report(e.keyPos ?? node.pos, `unknown key${hint ? ` (did you mean '${hint}'?)` : `; expected ${names.join(', ')}`}`);
          ok = false;
          continue;
        }
        byKey.set(e.key, e.value);
      }
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const f = fields[name]!;
        const fcx = cx.at(name);
        const given = byKey.get(name);
        let v: unknown;
        if (given !== undefined) {
          v = f.schema.parse(given, fcx);
        } else if (f.mode === 'required') {
          v = fcx.report(node.pos, 'is required');
        } else if (f.mode === 'optional') {
          continue;
        } else if (f.fallback) {
          v = f.fallback();
        } else {
          v = f.schema.parse({ ...f.emptyInput!, ...(node.pos ? { pos: node.pos } : {}) } as InputNode, fcx);
        }
        if (v === INVALID) ok = false;
        else defineField(out, props[i]!, v);
      }
      return ok ? (out as ObjectOf<F>) : INVALID;
    },
  };
}

/* ---------- checks across fields ---------- */

export interface Refinement {
  /** Reports a problem at `rel` below the value being refined (its position if present). */
  report(rel: readonly PathSeg[], message: string): void;
}

/**
 * Checks that span fields (hold-time 1 and 2, references between sections, duplicates). Runs
 * only when the value itself parsed, so checks see well-typed values.
 */
export function refine<T>(schema: Schema<T>, check: (value: T, r: Refinement) => void): Schema<T> {
  return {
    expected: schema.expected,
    parse(node, cx) {
      const v = schema.parse(node, cx);
      if (v === INVALID) return v;
      let bad = false;
      check(v, {
        report(rel, message) {
          bad = true;
          cx.report(positionOf(node, rel), message, [...cx.path, ...rel]);
        },
      });
      return bad ? INVALID : v;
    },
  };
}

/** Computes a derived value (filled-in defaults that depend on other fields) once parsing succeeded. */
export function transform<T, U>(schema: Schema<T>, fn: (value: T) => U): Schema<U> {
  return {
    expected: schema.expected,
    parse(node, cx) {
      const v = schema.parse(node, cx);
      return v === INVALID ? INVALID : fn(v as T);
    },
  };
}

/** The position of the deepest node on `rel` that the input has (absent keys were defaulted). */
export function positionOf(node: InputNode, rel: readonly PathSeg[]): Pos | undefined {
  let cur = node;
  let pos = node.pos;
  for (const seg of rel) {
    let next: InputNode | undefined;
    if (cur.kind === 'map' && typeof seg === 'string') {
      const e = cur.entries.find((x) => x.key === seg);
      next = e?.value;
    } else if (cur.kind === 'seq' && typeof seg === 'number') {
      next = cur.items[seg];
    }
    if (!next) break;
    cur = next;
    if (next.pos) pos = next.pos;
  }
  return pos;
}

/** Own data property even for '__proto__', so user keys cannot reach the prototype. */
function defineField(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** The known key a typo most likely meant: same letters ignoring case and _/-, or edit distance <= 2. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll('_', '-');
  const k = norm(key);
  let best: string | undefined;
  let bestD = 3;
  for (const n of known) {
    const d = n === k ? 0 : editDistance(k, norm(n), bestD);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
