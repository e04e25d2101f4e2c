/**
 * tshark as the reference for what is right on the wire: per-frame field values, and the
 * same values worked out from our decoded layers in tshark's formats.
 */
import { execFileSync } from 'node:child_process';
import { tcpFlagsValue } from '../../../codecs/net/index.js';
import { requireTshark } from '../../support/tshark.js';
import type { Layer } from './stack.js';

requireTshark();

export const CHECKSUM_PREFS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];

/** One row per frame: field -> all occurrences joined by ','. */
export function tsharkFields(file: string, fields: readonly string[], extra: readonly string[] = []): Record<string, string>[] {
  const args = [...extra, '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=/t'];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  const rows = out.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  return rows.map((line) => {
    const cols = line.split('\t');
    const row: Record<string, string> = {};
    fields.forEach((f, i) => (row[f] = cols[i] ?? ''));
    return row;
  });
}

const hex = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, '0')}`;

/** The fields `ourFields` fills in, under tshark's names. */
export const CROSS_CHECK_FIELDS = [
  'eth.src',
  'eth.dst',
  'eth.len',
  'vlan.id',
  'vlan.priority',
  'arp.opcode',
  'arp.src.hw_mac',
  'arp.src.proto_ipv4',
  'arp.dst.hw_mac',
  'arp.dst.proto_ipv4',
  'ip.src',
  'ip.dst',
  'ip.hdr_len',
  'ip.dsfield',
  'ip.len',
  'ip.id',
  'ip.flags',
  'ip.frag_offset',
  'ip.ttl',
  'ip.proto',
  'ip.checksum',
  'icmp.type',
  'icmp.code',
  'icmp.checksum',
  'icmp.ident',
  'icmp.seq',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'udp.checksum',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.hdr_len',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.checksum',
  'tcp.urgent_pointer',
  'tcp.option_kind',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval',
  'tcp.options.timestamp.tsecr',
  'gre.proto',
  'gre.key',
  'mpls.label',
  'mpls.exp',
  'mpls.bottom',
  'mpls.ttl',
  'vxlan.flags',
  'vxlan.vni',
] as const;

/** Our decoded layers printed the way tshark prints CROSS_CHECK_FIELDS. */
export function ourFields(layers: readonly Layer[]): Record<string, string> {
  const acc: Record<string, string[]> = {};
  const add = (f: string, v: string | number): void => {
    (acc[f] ??= []).push(String(v));
  };
  for (const l of layers) {
    switch (l.kind) {
      case 'ethernet': {
        const e = l.v;
        add('eth.src', e.src);
        add('eth.dst', e.dst);
        for (const t of e.tags) {
          add('vlan.id', t.vid);
          add('vlan.priority', t.pcp);
        }
        // tshark puts an untagged 802.3 length in eth.len and a tagged one in vlan.len.
        if (e.length !== undefined && e.tags.length === 0) add('eth.len', e.length);
        break;
      }
      case 'arp': {
        const a = l.v;
        add('arp.opcode', a.op);
        if (typeof a.sha === 'string') {
          add('arp.src.hw_mac', a.sha);
          add('arp.src.proto_ipv4', a.spa as string);
          add('arp.dst.hw_mac', a.tha as string);
          add('arp.dst.proto_ipv4', a.tpa as string);
        }
        break;
      }
      case 'ipv4': {
        const p = l.v;
        add('ip.src', p.src);
        add('ip.dst', p.dst);
        add('ip.hdr_len', p.ihl * 4);
        add('ip.dsfield', hex((p.dscp << 2) | p.ecn, 2));
        add('ip.len', p.totalLength);
        add('ip.id', hex(p.identification, 4));
        add('ip.flags', hex((p.reservedFlag ? 4 : 0) | (p.df ? 2 : 0) | (p.mf ? 1 : 0), 2));
        add('ip.frag_offset', p.fragmentOffset * 8);
        add('ip.ttl', p.ttl);
        add('ip.proto', p.protocol);
        add('ip.checksum', hex(p.checksum, 4));
        break;
      }
      case 'icmp': {
        const m = l.v;
        add('icmp.type', m.type);
        add('icmp.code', m.code);
        add('icmp.checksum', hex(m.checksum, 4));
        if (m.identifier !== undefined) add('icmp.ident', m.identifier);
        if (m.sequence !== undefined) add('icmp.seq', m.sequence);
        break;
      }
      case 'udp': {
        const u = l.v;
        add('udp.srcport', u.srcPort);
        add('udp.dstport', u.dstPort);
        add('udp.length', u.length);
        add('udp.checksum', hex(u.checksum, 4));
        break;
      }
      case 'tcp': {
        const t = l.v;
        add('tcp.srcport', t.srcPort);
        add('tcp.dstport', t.dstPort);
        add('tcp.seq_raw', t.seq);
        add('tcp.ack_raw', t.ack);
        add('tcp.hdr_len', t.dataOffset * 4);
        add('tcp.flags', hex(tcpFlagsValue(t), 4));
        add('tcp.window_size_value', t.window);
        add('tcp.checksum', hex(t.checksum, 4));
        add('tcp.urgent_pointer', t.urgentPointer);
        for (const o of t.options) {
          add('tcp.option_kind', optionKind(o));
          if (o.type === 'mss') add('tcp.options.mss_val', o.mss);
          if (o.type === 'window-scale') add('tcp.options.wscale.shift', o.shift);
          if (o.type === 'timestamps') {
            add('tcp.options.timestamp.tsval', o.tsval);
            add('tcp.options.timestamp.tsecr', o.tsecr);
          }
        }
        // Wireshark 4.0 lists every zero byte that follows an EOL as one more EOL.
        const last = t.options[t.options.length - 1];
        if (last?.type === 'eol') for (let i = 0; i < t.padding.length && t.padding[i] === 0; i++) add('tcp.option_kind', 0);
        break;
      }
      case 'gre':
        add('gre.proto', hex(l.v.protocolType, 4));
        if (l.v.key !== undefined) add('gre.key', hex(l.v.key, 8));
        break;
      case 'mpls':
        for (const e of l.v.labels) {
          add('mpls.label', e.label);
          add('mpls.exp', e.tc);
          add('mpls.bottom', e.bottom ? 1 : 0);
          add('mpls.ttl', e.ttl);
        }
        break;
      case 'vxlan':
        // tshark shows the flags as the first 16 bits (VXLAN-GPE layout).
        add('vxlan.flags', hex((l.v.flags << 8) | (l.v.reserved1 >>> 16), 4));
        add('vxlan.vni', l.v.vni);
        break;
      default:
        break;
    }
  }
  const out: Record<string, string> = {};
  for (const f of CROSS_CHECK_FIELDS) out[f] = (acc[f] ?? []).join(',');
  return out;
}

const KIND: Record<string, number> = {
  eol: 0,
  nop: 1,
  mss: 2,
  'window-scale': 3,
  'sack-permitted': 4,
  sack: 5,
  timestamps: 8,
  md5: 19,
  'tcp-ao': 29,
};

function optionKind(o: { type: string; kind?: number }): number {
  return o.type === 'unknown' ? o.kind! : KIND[o.type]!;
}
