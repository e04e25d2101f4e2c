/**
 * The flow table: one entry per direction of a connection, keyed by VRF and 5-tuple, created
 * in forward/reverse pairs on a flow's first packet. The entry holds what was decided once
 * (action, NAT rewrite, ECMP member, tunnel source port) so later packets just apply it.
 */
import { flowHash, mplsInUdpSourcePort } from '../../codecs/net/index.js';

export interface FlowKey {
  vrf: number;
  proto: number;
  src: string;
  dst: string;
  /** TCP/UDP ports; ICMP echo: identifier as sport for requests, as dport for replies. */
  sport: number;
  dport: number;
}

export type FlowAction =
  | { type: 'forward' }
  /** Reason as `flow` prints it: FwPolicy, Unknown, ... */
  | { type: 'drop'; reason: string }
  | { type: 'nat'; snat: boolean; dnat: boolean; spat: boolean; dpat: boolean };

/** The tuple a packet of this flow leaves with, after NAT. */
export interface FlowRewrite {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** TCP state bits, named as `flow` prints them (r = seen in the reverse direction). */
export const TcpState = {
  S: 0x001,
  Sr: 0x002,
  E: 0x004,
  Er: 0x008,
  F: 0x010,
  Fr: 0x020,
  R: 0x040,
  C: 0x080,
  D: 0x100,
} as const;
const TCP_STATE_ORDER = Object.entries(TcpState);

export function tcpStateString(bits: number): string {
  let s = '';
  for (const [name, bit] of TCP_STATE_ORDER) if (bits & bit) s += name;
  return s;
}

export interface FlowEntry {
  index: number;
  /** Index of the other direction's entry. */
  rflow: number;
  key: FlowKey;
  action: FlowAction;
  /** Present when the action is NAT. */
  rewrite?: FlowRewrite;
  /** VRF the packet is routed in after the flow (differs from key.vrf for FIP traffic). */
  destVrf: number;
  /** K(nh): the next hop that brought the packet in (interface or label next hop). */
  keyNh: number;
  /** S(nh): the next hop towards the source (RPF). */
  rpfNh: number;
  /** TcpState bits. */
  tcp: number;
  gen: number;
  packets: number;
  bytes: number;
  /** Outer UDP source port used when this flow is tunnelled (entropy, 49152-65535). */
  udpSrcPort: number;
  /** Member chosen in a Composite next hop, kept for the flow's life; -1 before any. */
  ecmpIndex: number;
  /** Hash of the key: ECMP choice and source port both come from it. */
  hash: number;
  ttl: number;
  /** Where the last packet came from: `<vif>.0.0.0` for a local vif, the tunnel source otherwise. */
  sinfo: string;
  /** Entry was created by this flow's first packet and has not been hit since (flag N). */
  isNew: boolean;
  created: number;
  lastUsed: number;
}

export interface FlowEntryInit {
  key: FlowKey;
  action: FlowAction;
  rewrite?: FlowRewrite;
  destVrf: number;
  keyNh: number;
  rpfNh: number;
  ecmpMembers?: number;
  sinfo?: string;
}

export interface FlowTableStats {
  created: number;
  added: number;
  deleted: number;
  changed: number;
  processed: number;
  overflow: number;
}

/** vRouter's default: 512K entries plus the overflow table, 128 bytes each. */
export const DEFAULT_FLOW_ENTRIES = 629760;
export const FLOW_ENTRY_BYTES = 128;

export function flowKeyString(k: FlowKey): string {
  return `${k.vrf} ${k.proto} ${k.src} ${k.sport} ${k.dst} ${k.dport}`;
}

/** The hash both ECMP and the entropy port use: FNV-1a over the inner 5-tuple. */
export function flowKeyHash(k: FlowKey): number {
  return flowHash({ src: k.src, dst: k.dst, protocol: k.proto, srcPort: k.sport, dstPort: k.dport });
}

export class FlowTable {
  readonly stats: FlowTableStats = { created: 0, added: 0, deleted: 0, changed: 0, processed: 0, overflow: 0 };
  private readonly byKey = new Map<string, FlowEntry>();
  private readonly byIndex = new Map<number, FlowEntry>();

  constructor(readonly capacity = DEFAULT_FLOW_ENTRIES) {}

  get size(): number {
    return this.byIndex.size;
  }

  /** `Flow table(size ...)`: the memory the entries take in the kernel. */
  get sizeBytes(): number {
    return this.capacity * FLOW_ENTRY_BYTES;
  }

  lookup(key: FlowKey): FlowEntry | undefined {
    return this.byKey.get(flowKeyString(key));
  }

  get(index: number): FlowEntry | undefined {
    return this.byIndex.get(index);
  }

  /**
   * Installs a forward/reverse pair; undefined when the table cannot hold two more entries.
   * An existing reverse entry with the same key (a collision of two forward flows' replies)
   * is replaced, as the agent does when it re-evaluates a flow.
   */
  createPair(fwd: FlowEntryInit, rev: FlowEntryInit, now: number): [FlowEntry, FlowEntry] | undefined {
    if (this.byIndex.size + 2 > this.capacity) {
      this.stats.overflow++;
      return undefined;
    }
    for (const init of [fwd, rev]) {
      const old = this.byKey.get(flowKeyString(init.key));
      if (old) this.removePair(old);
    }
    const f = this.insert(fwd, now);
    const r = this.insert(rev, now);
    f.rflow = r.index;
    r.rflow = f.index;
    this.stats.created += 2;
    this.stats.added += 2;
    return [f, r];
  }

  /** Removes an entry and its reverse. */
  removePair(e: FlowEntry): void {
    const r = this.byIndex.get(e.rflow);
    this.remove(e);
    if (r && r !== e) this.remove(r);
  }

  /** Removes pairs idle for at least `idleMs` in both directions; returns how many entries went. */
  age(now: number, idleMs: number): number {
    let removed = 0;
    for (const e of [...this.byIndex.values()]) {
      if (!this.byIndex.has(e.index)) continue;
      const r = this.byIndex.get(e.rflow);
      const last = Math.max(e.lastUsed, r?.lastUsed ?? 0);
      if (now - last >= idleMs) {
        removed += r ? 2 : 1;
        this.removePair(e);
      }
    }
    return removed;
  }

  list(): FlowEntry[] {
    return [...this.byIndex.values()].sort((a, b) => a.index - b.index);
  }

  /** Entries with `ip` (and `port`, when given) as source or destination, as `flow --match` selects. */
  match(ip: string, port?: number): FlowEntry[] {
    return this.list().filter(
      (e) =>
        (e.key.src === ip && (port === undefined || e.key.sport === port)) ||
        (e.key.dst === ip && (port === undefined || e.key.dport === port)),
    );
  }

  private insert(init: FlowEntryInit, now: number): FlowEntry {
    const hash = flowKeyHash(init.key);
    const members = init.ecmpMembers ?? 0;
    const e: FlowEntry = {
      index: this.freeIndex(hash),
      rflow: -1,
      key: init.key,
      action: init.action,
      destVrf: init.destVrf,
      keyNh: init.keyNh,
      rpfNh: init.rpfNh,
      tcp: 0,
      gen: 1,
      packets: 0,
      bytes: 0,
      udpSrcPort: mplsInUdpSourcePort(hash),
      ecmpIndex: members > 0 ? hash % members : -1,
      hash,
      ttl: 0,
      sinfo: init.sinfo ?? '0.0.0.0',
      isNew: true,
      created: now,
      lastUsed: now,
    };
    if (init.rewrite) e.rewrite = init.rewrite;
    this.byKey.set(flowKeyString(e.key), e);
    this.byIndex.set(e.index, e);
    return e;
  }

  /** Hash bucket of the key, probing on: indexes look like the kernel's and stay stable. */
  private freeIndex(hash: number): number {
    let i = hash % this.capacity;
    while (this.byIndex.has(i)) i = (i + 1) % this.capacity;
    return i;
  }

  private remove(e: FlowEntry): void {
    if (this.byIndex.get(e.index) !== e) return;
    this.byIndex.delete(e.index);
    this.byKey.delete(flowKeyString(e.key));
    this.stats.deleted++;
  }
}

/** TCP flag bits of the segment header byte 13. */
const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

/**
 * Advances the pair's TCP state for a segment seen on `f` (its reverse is `r`). Returns true
 * when the connection is over (RST, or the ACK of the second FIN) and the pair can go.
 */
export function updateTcpState(f: FlowEntry, r: FlowEntry | undefined, flags: number): boolean {
  const rev = r ?? f;
  if (flags & TH_RST) {
    f.tcp |= TcpState.R | TcpState.D;
    rev.tcp |= TcpState.R | TcpState.D;
    return true;
  }
  if (flags & TH_SYN) {
    f.tcp |= TcpState.S;
    rev.tcp |= TcpState.Sr;
  }
  if (flags & TH_FIN) {
    f.tcp |= TcpState.F;
    rev.tcp |= TcpState.Fr;
    const both = (f.tcp & TcpState.F) !== 0 && (f.tcp & TcpState.Fr) !== 0;
    if (!both) {
      f.tcp |= TcpState.C;
      rev.tcp |= TcpState.C;
    }
    return false;
  }
  if (flags & TH_ACK) {
    if ((f.tcp & TcpState.Sr) !== 0 && (f.tcp & TcpState.E) === 0) {
      f.tcp |= TcpState.E;
      rev.tcp |= TcpState.Er;
    }
    // The ACK of the second FIN: both directions have closed.
    if ((f.tcp & TcpState.F) !== 0 && (f.tcp & TcpState.Fr) !== 0) {
      f.tcp |= TcpState.D;
      rev.tcp |= TcpState.D;
      return true;
    }
  }
  return false;
}
