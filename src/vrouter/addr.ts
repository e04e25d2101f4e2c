/**
 * IPv4 addresses as unsigned 32-bit numbers: the route table and the flow keys work on
 * numbers so a lookup costs no string parsing or allocation once the packet is decoded.
 */
import { parseMac } from '../../codecs/util/writer.js';

/** Text -> unsigned number. Throws TypeError on malformed text (a configuration bug). */
export function ipv4ToInt(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) throw new TypeError(`not an IPv4 address: ${s}`);
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) throw new TypeError(`not an IPv4 address: ${s}`);
    } else {
      throw new TypeError(`not an IPv4 address: ${s}`);
    }
  }
  if (dots !== 3 || digits === 0) throw new TypeError(`not an IPv4 address: ${s}`);
  return n * 256 + part;
}

export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Network mask of a prefix length as an unsigned number (0 for /0). */
export function maskOf(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
}

/** "a.b.c.d/n" -> address (masked) and length. Throws TypeError on malformed text. */
export function parsePrefix(s: string): { addr: number; plen: number } {
  const slash = s.indexOf('/');
  const addr = ipv4ToInt(slash < 0 ? s : s.slice(0, slash));
  const plen = slash < 0 ? 32 : Number(s.slice(slash + 1));
  if (!Number.isInteger(plen) || plen < 0 || plen > 32) throw new TypeError(`bad prefix length: ${s}`);
  return { addr: (addr & maskOf(plen)) >>> 0, plen };
}

export function macBytes(mac: string): Uint8Array {
  return parseMac(mac);
}

/** The MAC every vRouter answers ARP with and sources routed frames from (VRRP MAC, VRID 0). */
export const VROUTER_MAC = '00:00:5e:00:01:00';
