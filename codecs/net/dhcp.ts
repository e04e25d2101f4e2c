/**
 * BOOTP (RFC 951) / DHCP (RFC 2131, options RFC 2132). Options stay in wire order with their
 * raw bytes, which are what gets encoded; `value` is a typed view for the common ones.
 */
import { Reader, formatIpv4, formatMac } from '../util/reader.js';
import { Writer, parseMac } from '../util/writer.js';
import { EMPTY, type Optional } from './types.js';

export const DHCP_MAGIC_COOKIE = 0x63825363;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** Fixed BOOTP part before the magic cookie. */
export const BOOTP_FIXED_LEN = 236;
export const BOOTP_FLAG_BROADCAST = 0x8000;

export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const DhcpOptionCode = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  MTU: 26,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  END: 255,
} as const;

export const DHCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'pad',
  1: 'subnet-mask',
  3: 'router',
  6: 'dns-servers',
  12: 'hostname',
  15: 'domain-name',
  26: 'mtu',
  50: 'requested-ip',
  51: 'lease-time',
  53: 'message-type',
  54: 'server-id',
  55: 'parameter-request-list',
  58: 'renewal-time',
  59: 'rebinding-time',
  61: 'client-id',
  255: 'end',
};

/** Client identifier (RFC 2132 section 9.14): a hardware type and the identifier bytes. */
export interface DhcpClientId {
  type: number;
  id: Uint8Array;
}

export type DhcpOptionValue = number | string | string[] | number[] | DhcpClientId;

export interface DhcpOption {
  code: number;
  /** Option data without code and length; empty for PAD and END, which have no length byte. */
  data: Uint8Array;
  /** Typed view of `data` for the options above; absent when unknown or the data does not fit. */
  value?: DhcpOptionValue;
}

export interface DhcpMessage {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** Bit 0x8000 is BROADCAST; the others are reserved but kept. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** All 16 bytes; the client MAC is the first hlen of them. */
  chaddr: Uint8Array;
  /** 64 bytes, NUL-padded server host name. */
  sname: Uint8Array;
  /** 128 bytes, NUL-padded boot file name. */
  file: Uint8Array;
  /** Absent for a plain BOOTP message shorter than 240 bytes. */
  magicCookie?: number;
  /** Parsed only behind the DHCP cookie; END is in the list when present. */
  options: DhcpOption[];
  /** Bytes after END (or after a non-DHCP cookie): padding to the 300-byte BOOTP minimum. */
  padding: Uint8Array;
}

export interface DhcpOptionInput {
  code: number;
  /** Wins over `value`. */
  data?: Uint8Array;
  value?: DhcpOptionValue;
}

/**
 * What `encodeDhcp` takes. Options are written as listed (add END yourself, as decoded values
 * have it); chaddr may be a MAC text, zero-filled to 16 bytes.
 */
export type DhcpInput = Omit<
  Optional<DhcpMessage, 'htype' | 'hlen' | 'hops' | 'secs' | 'flags' | 'ciaddr' | 'yiaddr' | 'siaddr' | 'giaddr' | 'sname' | 'file' | 'magicCookie' | 'padding'>,
  'chaddr' | 'options'
> & { chaddr: Uint8Array | string; options: DhcpOptionInput[] };

export function decodeDhcp(buf: Uint8Array, offset = 0, end = buf.length): DhcpMessage {
  const r = new Reader(buf, offset, end);
  const m: DhcpMessage = {
    op: r.u8('dhcp.op'),
    htype: r.u8('dhcp.htype'),
    hlen: r.u8('dhcp.hlen'),
    hops: r.u8('dhcp.hops'),
    xid: r.u32('dhcp.xid'),
    secs: r.u16('dhcp.secs'),
    flags: r.u16('dhcp.flags'),
    ciaddr: r.ipv4('dhcp.ciaddr'),
    yiaddr: r.ipv4('dhcp.yiaddr'),
    siaddr: r.ipv4('dhcp.siaddr'),
    giaddr: r.ipv4('dhcp.giaddr'),
    chaddr: r.bytes(16, 'dhcp.chaddr'),
    sname: r.bytes(64, 'dhcp.sname'),
    file: r.bytes(128, 'dhcp.file'),
    options: [],
    padding: EMPTY,
  };
  if (r.remaining < 4) {
    m.padding = r.rest();
    return m;
  }
  m.magicCookie = r.u32('dhcp.magicCookie');
  if (m.magicCookie === DHCP_MAGIC_COOKIE) {
    const options = m.options;
    while (!r.atEnd()) {
      const code = r.u8('dhcp.options.code');
      if (code === DhcpOptionCode.PAD || code === DhcpOptionCode.END) {
        options.push({ code, data: EMPTY });
        if (code === DhcpOptionCode.END) break;
        continue;
      }
      const data = r.bytes(r.u8(`dhcp.options[${options.length}].length`), `dhcp.options[${options.length}].data`);
      const value = optionValue(code, data);
      options.push(value === undefined ? { code, data } : { code, data, value });
    }
  }
  m.padding = r.rest();
  return m;
}

function ipv4List(data: Uint8Array): string[] | undefined {
  if (data.length === 0 || data.length % 4 !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(formatIpv4(data, i));
  return out;
}

function latin1(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

function u32(d: Uint8Array): number {
  return ((d[0]! << 24) >>> 0) + ((d[1]! << 16) | (d[2]! << 8) | d[3]!);
}

function optionValue(code: number, d: Uint8Array): DhcpOptionValue | undefined {
  switch (code) {
    case DhcpOptionCode.MESSAGE_TYPE:
      return d.length === 1 ? d[0]! : undefined;
    case DhcpOptionCode.SUBNET_MASK:
    case DhcpOptionCode.REQUESTED_IP:
    case DhcpOptionCode.SERVER_ID:
      return d.length === 4 ? formatIpv4(d) : undefined;
    case DhcpOptionCode.LEASE_TIME:
    case DhcpOptionCode.RENEWAL_TIME:
    case DhcpOptionCode.REBINDING_TIME:
      return d.length === 4 ? u32(d) : undefined;
    case DhcpOptionCode.MTU:
      return d.length === 2 ? (d[0]! << 8) | d[1]! : undefined;
    case DhcpOptionCode.ROUTER:
    case DhcpOptionCode.DNS_SERVERS:
      return ipv4List(d);
    case DhcpOptionCode.HOSTNAME:
    case DhcpOptionCode.DOMAIN_NAME:
      return latin1(d);
    case DhcpOptionCode.PARAMETER_REQUEST_LIST:
      return Array.from(d);
    case DhcpOptionCode.CLIENT_ID:
      return d.length >= 1 ? { type: d[0]!, id: d.subarray(1) } : undefined;
  }
  return undefined;
}

/** Option data for a typed value (the inverse of the views decodeDhcp gives). */
export function encodeDhcpOptionValue(code: number, value: DhcpOptionValue): Uint8Array {
  const w = new Writer(16);
  switch (code) {
    case DhcpOptionCode.MESSAGE_TYPE:
      w.u8(value as number);
      break;
    case DhcpOptionCode.SUBNET_MASK:
    case DhcpOptionCode.REQUESTED_IP:
    case DhcpOptionCode.SERVER_ID:
      w.ipv4(value as string);
      break;
    case DhcpOptionCode.LEASE_TIME:
    case DhcpOptionCode.RENEWAL_TIME:
    case DhcpOptionCode.REBINDING_TIME:
      w.u32(value as number);
      break;
    case DhcpOptionCode.MTU:
      w.u16(value as number);
      break;
    case DhcpOptionCode.ROUTER:
    case DhcpOptionCode.DNS_SERVERS:
      for (const a of value as string[]) w.ipv4(a);
      break;
    case DhcpOptionCode.HOSTNAME:
    case DhcpOptionCode.DOMAIN_NAME: {
      const s = value as string;
      for (let i = 0; i < s.length; i++) w.u8(s.charCodeAt(i));
      break;
    }
    case DhcpOptionCode.PARAMETER_REQUEST_LIST:
      for (const c of value as number[]) w.u8(c);
      break;
    case DhcpOptionCode.CLIENT_ID: {
      const c = value as DhcpClientId;
      w.u8(c.type).bytes(c.id);
      break;
    }
    default:
      throw new TypeError(`no typed encoding for DHCP option ${code}; give its data`);
  }
  return w.finish();
}

function fixed(b: Uint8Array | undefined, n: number): Uint8Array {
  if (b && b.length === n) return b;
  const out = new Uint8Array(n);
  if (b) out.set(b.subarray(0, n));
  return out;
}

export function encodeDhcp(m: DhcpInput): Uint8Array {
  const w = new Writer(300);
  const chaddr = typeof m.chaddr === 'string' ? parseMac(m.chaddr) : m.chaddr;
  w.u8(m.op).u8(m.htype ?? 1).u8(m.hlen ?? 6).u8(m.hops ?? 0);
  w.u32(m.xid).u16(m.secs ?? 0).u16(m.flags ?? 0);
  w.ipv4(m.ciaddr ?? '0.0.0.0').ipv4(m.yiaddr ?? '0.0.0.0').ipv4(m.siaddr ?? '0.0.0.0').ipv4(m.giaddr ?? '0.0.0.0');
  w.bytes(fixed(chaddr, 16)).bytes(fixed(m.sname, 64)).bytes(fixed(m.file, 128));
  const cookie = m.magicCookie ?? (m.options.length > 0 ? DHCP_MAGIC_COOKIE : undefined);
  if (cookie !== undefined) w.u32(cookie);
  for (const o of m.options) {
    w.u8(o.code);
    if (o.code === DhcpOptionCode.PAD || o.code === DhcpOptionCode.END) continue;
    const data = o.data ?? (o.value !== undefined ? encodeDhcpOptionValue(o.code, o.value) : EMPTY);
    if (data.length > 255) throw new TypeError(`DHCP option ${o.code} data is ${data.length} bytes; split it (RFC 3396)`);
    w.u8(data.length).bytes(data);
  }
  if (m.padding) w.bytes(m.padding);
  return w.finish();
}

/** The client MAC from chaddr when the hardware is Ethernet. */
export function dhcpClientMac(m: DhcpMessage): string | undefined {
  if (m.htype !== 1 || m.hlen !== 6) return undefined;
  return formatMac(m.chaddr.subarray(0, 6));
}

/** The typed value of the first option with `code`, if any. */
export function dhcpOption(m: DhcpMessage, code: number): DhcpOptionValue | undefined {
  for (const o of m.options) if (o.code === code) return o.value;
  return undefined;
}

