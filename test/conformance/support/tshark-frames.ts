/**
 * tshark's reading of a capture, as the conformance tests need it: per frame, whether tshark
 * found it malformed (or raised an Error-severity expert item), and the BGP messages of its
 * `bgp` layer as JSON trees (`tshark -T json --no-duplicate-keys`). One tshark run per file.
 */
import { spawnSync } from 'node:child_process';

/** epan/proto.h PI_ERROR; `tshark -G values` does not list severities. */
export const SEVERITY_ERROR = 0x00800000;

export type TsharkTree = { [key: string]: TsharkNode };
export type TsharkNode = string | TsharkTree | TsharkNode[];

export interface TsharkFrame {
  frame: number;
  /** `_ws.malformed` (a dissector exception) is present. */
  malformed: boolean;
  /** Messages of expert items of Error severity anywhere in the frame. */
  errors: string[];
  /** BGP messages in the order tshark dissected them (Continuation entries left out). */
  bgp: TsharkTree[];
  /** tshark showed bytes before the first marker as "Continuation". */
  bgpContinuation: boolean;
}

export function tsharkFrames(file: string, extraArgs: readonly string[] = []): TsharkFrame[] {
  const r = spawnSync('tshark', ['-r', file, ...extraArgs, '-T', 'json', '--no-duplicate-keys'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed (${r.status}): ${r.stderr}`);
  const packets = JSON.parse(r.stdout) as { _source: { layers: TsharkTree } }[];
  return packets.map((p) => frameOf(p._source.layers));
}

function frameOf(layers: TsharkTree): TsharkFrame {
  const frameLayer = layers['frame'];
  const num = typeof frameLayer === 'object' && !Array.isArray(frameLayer) ? frameLayer['frame.number'] : undefined;
  if (typeof num !== 'string') throw new Error('tshark JSON without frame.number');
  const errors: string[] = [];
  walkExperts(layers, errors);
  const bgp: TsharkTree[] = [];
  let bgpContinuation = false;
  for (const m of asList(layers['bgp'])) {
    if (typeof m !== 'object' || Array.isArray(m)) continue;
    if ('bgp.type' in m) bgp.push(m);
    else if ('bgp.continuation' in m) bgpContinuation = true;
  }
  return { frame: Number(num), malformed: '_ws.malformed' in layers, errors, bgp, bgpContinuation };
}

function asList(n: TsharkNode | undefined): TsharkNode[] {
  if (n === undefined) return [];
  return Array.isArray(n) ? n : [n];
}

function walkExperts(n: TsharkNode, out: string[]): void {
  if (typeof n === 'string') return;
  if (Array.isArray(n)) {
    for (const x of n) walkExperts(x, out);
    return;
  }
  const sev = n['_ws.expert.severity'];
  for (const s of asList(sev)) {
    if (typeof s === 'string' && Number(s) >= SEVERITY_ERROR) {
      const msg = n['_ws.expert.message'];
      out.push(typeof msg === 'string' ? msg : '(expert item)');
    }
  }
  for (const v of Object.values(n)) walkExperts(v, out);
}

/**
 * Every value of the keys `match` accepts, in document order, anywhere under `tree`. With
 * --no-duplicate-keys a repeated key becomes an array: its values stay in order. Subtrees
 * (objects) under a matched key are not values; strings inside arrays are.
 */
export function collect(tree: TsharkNode, match: (key: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (n: TsharkNode, key: string | undefined): void => {
    if (typeof n === 'string') {
      if (key !== undefined && match(key)) out.push(n);
      return;
    }
    if (Array.isArray(n)) {
      for (const x of n) visit(x, key);
      return;
    }
    for (const [k, v] of Object.entries(n)) visit(v, k);
  };
  visit(tree, undefined);
  return out;
}
