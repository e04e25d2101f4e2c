/**
 * What the lab's end-to-end tests share: `weft lab` itself, commands inside the lab's
 * namespaces, the vRouter tools' JSON in a compute namespace, HTTP and ping between
 * namespaces, gobgpd's view, the control node's REST API, and the lab's footprint on the
 * host (namespaces and links) to prove `down` leaves nothing behind.
 */
import { readFileSync } from 'node:fs';
import { REPO, WEFT, must, run, until } from '../support/procs.js';

export { REPO, WEFT, must, run, until };

export const LAB_CONFIG = `${REPO}/fixtures/lab/book-lab.yaml`;
export const STATE_FILE = '/run/weft-lab/state.json';

export const NS = {
  control: 'weft-control',
  a: 'weft-cent222',
  b: 'weft-cent333',
  gateway: 'weft-gateway',
  internet: 'weft-internet',
  pod: (name: string) => `weft-pod-${name}`,
} as const;

export const ADDR = { control: '10.169.25.19', a: '10.169.25.20', b: '10.169.25.21', gateway: '192.168.0.204' } as const;

/** `weft lab ...` as a user runs it; returns its exit code, output and how long it took. */
export function lab(...args: string[]): { code: number; out: string; err: string; seconds: number } {
  const t0 = Date.now();
  const r = run(['node', WEFT, 'lab', ...args]);
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/** argv inside a lab namespace (network namespace only, as the lab starts its daemons). */
export function inLab(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=/var/run/netns/${ns}`, ...argv];
}

export function runIn(ns: string, argv: string[]): { code: number; out: string; err: string } {
  return run(inLab(ns, argv));
}

export function mustIn(ns: string, argv: string[]): string {
  return must(inLab(ns, argv));
}

/** `weft <args> --json` in a namespace (a compute node's agent API, the control node's introspect). */
export function weftJson<T = unknown>(ns: string, args: string[]): T {
  return JSON.parse(mustIn(ns, ['node', WEFT, ...args, '--json'])) as T;
}

export function weftText(ns: string, args: string[]): string {
  return mustIn(ns, ['node', WEFT, ...args]);
}

/** GET with curl from inside `ns`: status 0 when nothing answered in time. */
export function httpGet(ns: string, url: string, timeoutS = 5): { status: number; body: string } {
  const r = runIn(ns, ['curl', '-sS', '-m', String(timeoutS), '-w', '\n%{http_code}', url]);
  const nl = r.out.lastIndexOf('\n');
  return { status: Number(r.out.slice(nl + 1)) || 0, body: r.out.slice(0, Math.max(nl, 0)) };
}

/** The control node's REST API (inside weft-control): method, path under /api, JSON body. */
export function controlRest(method: string, path: string, body?: unknown): { status: number; body: unknown } {
  const argv = ['curl', '-sS', '-m', '5', '-X', method, '-w', '\n%{http_code}', `http://127.0.0.1:8082/api/${path}`];
  if (body !== undefined) argv.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  const r = runIn(NS.control, argv);
  const nl = r.out.lastIndexOf('\n');
  const text = r.out.slice(0, Math.max(nl, 0));
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: Number(r.out.slice(nl + 1)) || 0, body: parsed };
}

export interface PingResult {
  sent: number;
  received: number;
  lossPercent: number;
  out: string;
}

export function ping(ns: string, ip: string, count = 3, waitS = 2): PingResult {
  const r = runIn(ns, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', String(waitS), ip]);
  const m = /(\d+) packets transmitted, (\d+) received.*?(\d+(?:\.\d+)?)% packet loss/s.exec(r.out);
  if (!m) throw new Error(`ping ${ip} from ${ns}: no summary:\n${r.out}${r.err}`);
  return { sent: Number(m[1]), received: Number(m[2]), lossPercent: Number(m[3]), out: r.out };
}

/** gobgpd's CLI in weft-gateway, JSON. */
export function gobgpJson<T = unknown>(...args: string[]): T {
  const out = mustIn(NS.gateway, ['gobgp', ...args, '-j']).trim();
  return (out === '' || out === 'null' ? {} : JSON.parse(out)) as T;
}

export interface GobgpPath {
  nlri: { prefix?: string; rd?: string; labels?: number[] };
  attrs: { type: number; [k: string]: unknown }[];
}

/** gobgpd's Loc-RIB of a family, keyed as gobgp prints it (`RD:prefix` for VPN). */
export function gobgpRib(family = 'vpnv4'): Record<string, GobgpPath[]> {
  return gobgpJson<Record<string, GobgpPath[]>>('global', 'rib', '-a', family);
}

export interface GobgpNeighbor {
  conf: { neighbor_address: string; peer_asn: number; local_asn?: number };
  state: { session_state: number | string; router_id?: string };
  afi_safis?: { state?: { family?: { afi: number; safi: number }; received?: number } }[];
}

export function gobgpNeighbors(): GobgpNeighbor[] {
  return gobgpJson<GobgpNeighbor[]>('neighbor');
}

export interface LabStateFile {
  procs: { name: string; ns: string; pid: number }[];
  pods: { name: string; ns: string; vrouter: string; ips: string[] }[];
}

export function labState(): LabStateFile {
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabStateFile;
}

/** A pod's vif on its agent (by address): the vRouter's view of the pod's interface. */
export function vifOf(ns: string, ip: string): { index: number; vrf: number; osName: string; label?: number; nh?: number } {
  const vifs = weftJson<{ vifs: { index: number; vrf: number; osName: string; ip: string; type: string; label?: number; nh?: number }[] }>(ns, ['vif', '--list']).vifs;
  const v = vifs.find((x) => x.type === 'virtual' && x.ip === ip);
  if (!v) throw new Error(`no vif with ${ip} in ${ns}: ${vifs.map((x) => `${x.osName} ${x.ip}`).join(', ')}`);
  return v;
}

/**
 * What the lab can leave on the host: every network namespace, and every link of the host's
 * own namespace (names only: counters and flags change by themselves).
 */
export function footprint(): { namespaces: string[]; links: string[] } {
  const ns = must(['ip', '-j', 'netns', 'list']).trim();
  const links = JSON.parse(must(['ip', '-j', 'link', 'show'])) as { ifname: string }[];
  return {
    namespaces: (ns === '' ? [] : (JSON.parse(ns) as { name: string }[]).map((n) => n.name)).sort(),
    links: links.map((l) => l.ifname).sort(),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
