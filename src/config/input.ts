/**
 * The input tree validation walks: mappings, lists and scalars with an optional position.
 * YAML documents and parsed JSON bodies both become this, so one schema serves the config file
 * and the REST API; only the YAML side has positions.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ConfigIssue, Pos } from './issues.js';

export type ScalarValue = string | number | boolean | null;

export interface MapEntry {
  key: string;
  keyPos?: Pos;
  value: InputNode;
}

export type InputNode =
  | { kind: 'map'; pos?: Pos; entries: MapEntry[] }
  | { kind: 'seq'; pos?: Pos; items: InputNode[] }
  | { kind: 'scalar'; pos?: Pos; value: ScalarValue };

/** A document needs no more; the cap stops alias "billion laughs" expansion from eating memory. */
const MAX_NODES = 250_000;
const MAX_DEPTH = 64;

export interface YamlInput {
  /** Undefined when the text is not well-formed YAML; `issues` then says why. */
  root: InputNode | undefined;
  issues: ConfigIssue[];
}

/**
 * Parses YAML 1.2 (core schema: `yes`/`no` stay strings, no sexagesimal numbers). Duplicate
 * keys, several documents, unknown tags are errors: a config must mean one thing. Aliases are
 * expanded; merge keys (`<<`) are not supported and read as an ordinary (unknown) key.
 */
export function parseYamlInput(text: string, source?: string): YamlInput {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
    schema: 'core',
    merge: false,
  });
  const issues: ConfigIssue[] = [];
  const at = (offset: number): Pos => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const push = (offset: number, message: string): void => {
    const p = at(offset);
    issues.push({ ...(source !== undefined ? { source } : {}), line: p.line, col: p.col, path: '', message });
  };
  for (const e of [...doc.errors, ...doc.warnings]) push(e.pos[0], firstLine(e.message));
  if (issues.length > 0) return { root: undefined, issues };

  const budget = { left: MAX_NODES };
  // yaml's Alias.resolve searches the whole document each time; expansion calls it often.
  const resolved = new Map<YamlNode, YamlNode | undefined>();
  const convert = (n: YamlNode | null | undefined, fallback: number, depth: number): InputNode => {
    if (--budget.left < 0 || depth > MAX_DEPTH) {
      throw new InputTooLarge(n?.range?.[0] ?? fallback);
    }
    if (n === null || n === undefined) return { kind: 'scalar', pos: at(fallback), value: null };
    if (isAlias(n)) {
      let target = resolved.get(n);
      if (!resolved.has(n)) {
        target = n.resolve(doc as Document) as YamlNode | undefined;
        resolved.set(n, target);
      }
      if (!target) return { kind: 'scalar', pos: at(n.range?.[0] ?? fallback), value: null };
      // The alias itself is placed where it is used; what is inside stays where it was written.
      const inner = convert(target, n.range?.[0] ?? fallback, depth + 1);
      return { ...inner, pos: at(n.range?.[0] ?? fallback) };
    }
    const pos = at(n.range?.[0] ?? fallback);
    if (isMap(n)) {
      const entries: MapEntry[] = [];
      for (const pair of n.items) {
        const k = pair.key as YamlNode | null;
        const kOff = k?.range?.[0] ?? n.range?.[0] ?? fallback;
        let key: string;
        if (k === null || k === undefined) key = '';
        else if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number' || typeof k.value === 'boolean')) {
          key = String(k.value);
        } else {
          push(kOff, 'keys must be plain strings');
          continue;
        }
        const v = pair.value as YamlNode | null;
        const value = convert(v, kOff, depth + 1);
        // `key:` with nothing after it: point at the key, not at the end of the line.
        if (isScalar(v) && v.value === null && v.range && v.range[0] === v.range[1]) value.pos = at(kOff);
        entries.push({ key, keyPos: at(kOff), value });
      }
      return { kind: 'map', pos, entries };
    }
    if (isSeq(n)) {
      const items: InputNode[] = [];
      for (const item of n.items) items.push(convert(item as YamlNode | null, n.range?.[0] ?? fallback, depth + 1));
      return { kind: 'seq', pos, items };
    }
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        return { kind: 'scalar', pos, value: v };
      }
      if (typeof v === 'bigint') return { kind: 'scalar', pos, value: Number(v) };
    }
    push(n.range?.[0] ?? fallback, 'unsupported YAML value');
    return { kind: 'scalar', pos, value: null };
  };

  try {
    const root = convert(doc.contents as YamlNode | null, 0, 0);
    return { root: issues.length > 0 ? undefined : root, issues };
  } catch (e) {
    if (!(e instanceof InputTooLarge)) throw e;
    push(e.offset, `document too large or too deeply nested (more than ${MAX_NODES} values after alias expansion, or ${MAX_DEPTH} levels)`);
    return { root: undefined, issues };
  }
}

class InputTooLarge extends Error {
  constructor(readonly offset: number) {
    super('input too large');
  }
}

/**
 * A value from JSON.parse as an input tree. Anything JSON cannot hold (undefined, functions,
 * bigint) reads as null, so a schema rejects it instead of this throwing.
 */
export function jsonInput(value: unknown, depth = 0): InputNode {
  if (depth > MAX_DEPTH) return { kind: 'scalar', value: null };
  if (Array.isArray(value)) return { kind: 'seq', items: value.map((v) => jsonInput(v, depth + 1)) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'map',
      entries: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: jsonInput(v, depth + 1) })),
    };
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', value };
  return { kind: 'scalar', value: null };
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl < 0 ? s : s.slice(0, nl);
}
