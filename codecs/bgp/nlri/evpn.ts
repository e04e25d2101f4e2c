import { formatIpv6, formatMac } from '../../util/reader.js';
import type { Reader } from '../../util/reader.js';
import type { Writer } from '../../util/writer.js';
import { parseIpv4, parseIpv6, parseMac } from '../../util/writer.js';
import { rdFromBytes, encodeRd } from '../rd.js';
import type { EvpnMacIp, EvpnNlri } from './types.js';
import { esiText, isIpv6Text, labelFromField, nlriFail, parseEsi, short, writeLabel } from './common.js';
import { copyBytes } from '../bytes.js';

/**
 * EVPN NLRI (AFI 25 SAFI 70): route type, length, then a type-specific body (RFC 7432 section
 * 7, RFC 9136 section 3). The body must fill its length exactly; a length that fits no layout
 * of its type is an error (3/10), since guessing would misread every field after it. Unknown
 * route types are kept as bytes.
 */
export function decodeEvpnList(r: Reader, addPath: boolean, base: string): EvpnNlri[] {
  const b = r.buf;
  const end = r.end;
  const out: EvpnNlri[] = [];
  let p = r.pos;
  for (let i = 0; p < end; i++) {
    let pathId: number | undefined;
    if (addPath) {
      if (p + 4 > end) nlriFail(base, i, 'pathId', p, short(4, end - p));
      pathId = u32(b, p);
      p += 4;
    }
    if (p + 2 > end) nlriFail(base, i, 'length', p, short(2, end - p));
    const routeType = b[p]!;
    const lenAt = p + 1;
    const len = b[lenAt]!;
    p += 2;
    if (p + len > end) nlriFail(base, i, 'body', p, short(len, end - p));
    const s = p; // body start
    switch (routeType) {
      case 1:
        if (len !== 25) badLength(base, i, lenAt, routeType, `length ${len}, expected 25`);
        out.push({
          kind: 'evpn', pathId, routeType: 1, rd: rdFromBytes(b, s), esi: esiText(b, s + 8),
          ethernetTag: u32(b, s + 18), label: labelFromField(u24(b, s + 22)),
        });
        break;
      case 2: {
        if (len < 33) badLength(base, i, lenAt, routeType, `length ${len}, at least 33 expected`);
        const macLen = b[s + 22]!;
        if (macLen !== 48) nlriFail(base, i, 'macLength', s + 22, `MAC address length ${macLen}, expected 48`);
        const ipLen = b[s + 29]!;
        if (ipLen !== 0 && ipLen !== 32 && ipLen !== 128) nlriFail(base, i, 'ipLength', s + 29, `IP address length ${ipLen}, expected 0, 32 or 128`);
        const ipBytes = ipLen >> 3;
        const fixed = 33 + ipBytes;
        if (len !== fixed && len !== fixed + 3) badLength(base, i, lenAt, routeType, `length ${len}, expected ${fixed} or ${fixed + 3}`);
        const at = s + 30 + ipBytes;
        const route: EvpnMacIp = {
          kind: 'evpn', pathId, routeType: 2, rd: rdFromBytes(b, s), esi: esiText(b, s + 8),
          ethernetTag: u32(b, s + 18), mac: formatMac(b.subarray(s + 23, s + 29)),
          ip: ipLen === 0 ? undefined : ipText(b, s + 30, ipBytes), label1: labelFromField(u24(b, at)),
        };
        if (len === fixed + 3) route.label2 = labelFromField(u24(b, at + 3));
        out.push(route);
        break;
      }
      case 3: {
        if (len !== 17 && len !== 29) badLength(base, i, lenAt, routeType, `length ${len}, expected 17 or 29`);
        const ipLen = b[s + 12]!;
        if (ipLen !== (len - 13) * 8) nlriFail(base, i, 'ipLength', s + 12, `IP address length ${ipLen} does not match route length ${len}`);
        out.push({
          kind: 'evpn', pathId, routeType: 3, rd: rdFromBytes(b, s), ethernetTag: u32(b, s + 8),
          originatorIp: ipText(b, s + 13, len - 13),
        });
        break;
      }
      case 4: {
        if (len !== 23 && len !== 35) badLength(base, i, lenAt, routeType, `length ${len}, expected 23 or 35`);
        const ipLen = b[s + 18]!;
        if (ipLen !== (len - 19) * 8) nlriFail(base, i, 'ipLength', s + 18, `IP address length ${ipLen} does not match route length ${len}`);
        out.push({
          kind: 'evpn', pathId, routeType: 4, rd: rdFromBytes(b, s), esi: esiText(b, s + 8),
          originatorIp: ipText(b, s + 19, len - 19),
        });
        break;
      }
      case 5: {
        if (len !== 34 && len !== 58) badLength(base, i, lenAt, routeType, `length ${len}, expected 34 (IPv4) or 58 (IPv6)`);
        const a = len === 34 ? 4 : 16;
        const plen = b[s + 22]!;
        if (plen > a * 8) nlriFail(base, i, 'prefixLength', s + 22, `IP prefix length ${plen} exceeds ${a * 8}`);
        out.push({
          kind: 'evpn', pathId, routeType: 5, rd: rdFromBytes(b, s), esi: esiText(b, s + 8),
          ethernetTag: u32(b, s + 18), prefix: ipText(b, s + 23, a) + '/' + plen,
          gateway: ipText(b, s + 23 + a, a), label: labelFromField(u24(b, s + 23 + 2 * a)),
        });
        break;
      }
      default:
        out.push({ kind: 'evpn', pathId, routeType, raw: copyBytes(b, s, s + len) });
    }
    p = s + len;
  }
  r.pos = p;
  return out;
}

function badLength(base: string, i: number, lenAt: number, routeType: number, why: string): never {
  return nlriFail(base, i, 'length', lenAt, `route type ${routeType}: ${why}`);
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function u24(b: Uint8Array, p: number): number {
  return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
}

function ipText(b: Uint8Array, p: number, n: number): string {
  return n === 4 ? `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}` : formatIpv6(b.subarray(p, p + 16));
}

function ipBytes(text: string): Uint8Array {
  return isIpv6Text(text) ? parseIpv6(text) : parseIpv4(text);
}

export function encodeEvpnNlri(w: Writer, n: EvpnNlri, addPath: boolean): void {
  if (addPath) {
    if (n.pathId === undefined) throw new TypeError('ADD-PATH EVPN NLRI has no pathId');
    w.u32(n.pathId);
  }
  w.u8(n.routeType);
  const lenAt = w.pos;
  w.u8(0);
  if ('raw' in n) {
    w.bytes(n.raw);
  } else {
    switch (n.routeType) {
      case 1:
        encodeRd(w, n.rd);
        w.bytes(parseEsi(n.esi)).u32(n.ethernetTag);
        writeLabel(w, n.label);
        break;
      case 2: {
        encodeRd(w, n.rd);
        w.bytes(parseEsi(n.esi)).u32(n.ethernetTag).u8(48).bytes(parseMac(n.mac));
        const ip = n.ip === undefined ? new Uint8Array(0) : ipBytes(n.ip);
        w.u8(ip.length * 8).bytes(ip);
        writeLabel(w, n.label1);
        if (n.label2) writeLabel(w, n.label2);
        break;
      }
      case 3: {
        encodeRd(w, n.rd);
        const ip = ipBytes(n.originatorIp);
        w.u32(n.ethernetTag).u8(ip.length * 8).bytes(ip);
        break;
      }
      case 4: {
        encodeRd(w, n.rd);
        const ip = ipBytes(n.originatorIp);
        w.bytes(parseEsi(n.esi)).u8(ip.length * 8).bytes(ip);
        break;
      }
      case 5: {
        const slash = n.prefix.indexOf('/');
        const addr = ipBytes(n.prefix.slice(0, slash < 0 ? n.prefix.length : slash));
        const plen = Number(n.prefix.slice(slash + 1));
        const gw = ipBytes(n.gateway);
        if (slash < 0 || !Number.isInteger(plen) || plen < 0 || plen > addr.length * 8 || gw.length !== addr.length) {
          throw new TypeError(`EVPN IP prefix route needs 'addr/len' and a gateway of the same family: ${n.prefix} ${n.gateway}`);
        }
        encodeRd(w, n.rd);
        w.bytes(parseEsi(n.esi)).u32(n.ethernetTag).u8(plen).bytes(addr).bytes(gw);
        writeLabel(w, n.label);
        break;
      }
    }
  }
  const len = w.pos - lenAt - 1;
  if (len > 255) throw new TypeError(`EVPN route of ${len} bytes does not fit its length byte`);
  w.patchU8(lenAt, len);
}
