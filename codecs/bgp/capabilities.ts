/**
 * BGP capabilities (RFC 5492), carried in OPEN optional parameters of type 2.
 *
 * A capability whose value does not match its known layout is an OPEN malformation: we report
 * it as 2/0 (OPEN Message Error, unspecific). RFC 5492 leaves the subcode open; "Unsupported
 * Capability" (2/7) is for capabilities we refuse, a session decision, not a codec one.
 */
import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import type { NotificationHint } from '../util/errors.js';

export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  MULTIPLE_LABELS: 8,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LLGR: 71,
  FQDN: 73,
  ROUTE_REFRESH_CISCO: 128,
} as const;

/** tshark 4.0 names (bgp.cap.type). */
export const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0: 'Reserved capability',
  1: 'Multiprotocol extensions capability',
  2: 'Route refresh capability',
  3: 'Cooperative route filtering capability',
  4: 'Multiple routes to a destination capability',
  5: 'Extended Next Hop Encoding',
  6: 'BGP-Extended Message',
  7: 'BGPsec capability',
  8: 'Multiple Labels capability',
  9: 'BGP Role',
  64: 'Graceful Restart capability',
  65: 'Support for 4-octet AS number capability',
  66: 'Support for Dynamic capability',
  67: 'Multisession BGP Capability',
  69: 'Support for Additional Paths',
  70: 'Enhanced route refresh capability',
  71: 'Long-Lived Graceful Restart (LLGR) Capability',
  73: 'FQDN Capability',
  128: 'Route refresh capability (Cisco)',
  130: 'Outbound Route Filtering capability (Cisco)',
};

/** RFC 7911 Send/Receive field. */
export const AddPathDirection = { RECEIVE: 1, SEND: 2, BOTH: 3 } as const;

export interface AfiSafi {
  afi: number;
  safi: number;
}

export type Capability =
  | { kind: 'multiprotocol'; code: 1; afi: number; reserved: number; safi: number }
  | { kind: 'route-refresh'; code: 2 }
  | { kind: 'enhanced-route-refresh'; code: 70 }
  | { kind: 'route-refresh-cisco'; code: 128 }
  | { kind: 'extended-message'; code: 6 }
  | { kind: 'four-octet-as'; code: 65; asn: number }
  | {
      kind: 'graceful-restart';
      code: 64;
      /** R bit: the sender has restarted. */
      restart: boolean;
      /** N bit (RFC 8538): graceful notification supported. */
      notification: boolean;
      /** The two reserved flag bits, kept for the round trip. */
      reservedFlags: number;
      /** Restart time, seconds (12 bits). */
      time: number;
      families: { afi: number; safi: number; forwarding: boolean; reservedFlags: number }[];
    }
  | { kind: 'add-path'; code: 69; families: { afi: number; safi: number; sendReceive: number }[] }
  | { kind: 'fqdn'; code: 73; hostname: string; domain: string }
  | { kind: 'extended-next-hop'; code: 5; tuples: { afi: number; safi: number; nextHopAfi: number }[] }
  | { kind: 'multiple-labels'; code: 8; families: { afi: number; safi: number; count: number }[] }
  | { kind: 'unknown'; code: number; raw: Uint8Array };

const OPEN_MALFORMED: NotificationHint = { code: 2, subcode: 0 };

function latin1(b: Uint8Array): string {
  // Host names are ASCII; latin1 maps every byte to one char, so the round trip is exact.
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function exactLength(r: Reader, field: string, len: number, want: number): void {
  if (len !== want) r.fail(field, `length ${len}, expected ${want}`, OPEN_MALFORMED);
}

function multipleOf(r: Reader, field: string, len: number, unit: number): void {
  if (len % unit !== 0) r.fail(field, `length ${len} is not a multiple of ${unit}`, OPEN_MALFORMED);
}

/** Decodes one capability TLV. `field` is the dotted path prefix for errors. */
export function decodeCapability(r: Reader, field: string): Capability {
  const code = r.u8(`${field}.code`);
  const len = r.u8(`${field}.length`);
  const v = r.sub(len, `${field}.value`, OPEN_MALFORMED);
  const f = `${field}.value`;
  switch (code) {
    case 1: {
      exactLength(v, f, len, 4);
      return { kind: 'multiprotocol', code, afi: v.u16(`${f}.afi`), reserved: v.u8(`${f}.reserved`), safi: v.u8(`${f}.safi`) };
    }
    case 2:
      exactLength(v, f, len, 0);
      return { kind: 'route-refresh', code };
    case 70:
      exactLength(v, f, len, 0);
      return { kind: 'enhanced-route-refresh', code };
    case 128:
      exactLength(v, f, len, 0);
      return { kind: 'route-refresh-cisco', code };
    case 6:
      exactLength(v, f, len, 0);
      return { kind: 'extended-message', code };
    case 65:
      exactLength(v, f, len, 4);
      return { kind: 'four-octet-as', code, asn: v.u32(`${f}.asn`) };
    case 64: {
      if (len < 2 || (len - 2) % 4 !== 0) v.fail(f, `length ${len} is not 2 + 4n`, OPEN_MALFORMED);
      const word = v.u16(`${f}.flags`);
      const families: { afi: number; safi: number; forwarding: boolean; reservedFlags: number }[] = [];
      while (!v.atEnd()) {
        const afi = v.u16(`${f}.afi`);
        const safi = v.u8(`${f}.safi`);
        const flags = v.u8(`${f}.afFlags`);
        families.push({ afi, safi, forwarding: (flags & 0x80) !== 0, reservedFlags: flags & 0x7f });
      }
      return {
        kind: 'graceful-restart',
        code,
        restart: (word & 0x8000) !== 0,
        notification: (word & 0x4000) !== 0,
        reservedFlags: (word >>> 12) & 0x3,
        time: word & 0x0fff,
        families,
      };
    }
    case 69: {
      multipleOf(v, f, len, 4);
      const families: { afi: number; safi: number; sendReceive: number }[] = [];
      while (!v.atEnd()) families.push({ afi: v.u16(`${f}.afi`), safi: v.u8(`${f}.safi`), sendReceive: v.u8(`${f}.sendReceive`) });
      return { kind: 'add-path', code, families };
    }
    case 73: {
      const hlen = v.u8(`${f}.hostnameLength`);
      const hostname = latin1(v.bytes(hlen, `${f}.hostname`));
      const dlen = v.u8(`${f}.domainLength`);
      const domain = latin1(v.bytes(dlen, `${f}.domain`));
      if (!v.atEnd()) v.fail(f, `${v.remaining} bytes after the domain name`, OPEN_MALFORMED);
      return { kind: 'fqdn', code, hostname, domain };
    }
    case 5: {
      multipleOf(v, f, len, 6);
      const tuples: { afi: number; safi: number; nextHopAfi: number }[] = [];
      while (!v.atEnd()) tuples.push({ afi: v.u16(`${f}.afi`), safi: v.u16(`${f}.safi`), nextHopAfi: v.u16(`${f}.nextHopAfi`) });
      return { kind: 'extended-next-hop', code, tuples };
    }
    case 8: {
      multipleOf(v, f, len, 4);
      const families: { afi: number; safi: number; count: number }[] = [];
      while (!v.atEnd()) families.push({ afi: v.u16(`${f}.afi`), safi: v.u8(`${f}.safi`), count: v.u8(`${f}.count`) });
      return { kind: 'multiple-labels', code, families };
    }
    default:
      return { kind: 'unknown', code, raw: v.rest() };
  }
}

export function encodeCapability(w: Writer, c: Capability): void {
  w.u8(c.code);
  const lenAt = w.pos;
  w.u8(0);
  switch (c.kind) {
    case 'multiprotocol':
      w.u16(c.afi).u8(c.reserved).u8(c.safi);
      break;
    case 'route-refresh':
    case 'enhanced-route-refresh':
    case 'route-refresh-cisco':
    case 'extended-message':
      break;
    case 'four-octet-as':
      w.u32(c.asn);
      break;
    case 'graceful-restart':
      w.u16((c.restart ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | ((c.reservedFlags & 3) << 12) | (c.time & 0x0fff));
      for (const fam of c.families) w.u16(fam.afi).u8(fam.safi).u8((fam.forwarding ? 0x80 : 0) | (fam.reservedFlags & 0x7f));
      break;
    case 'add-path':
      for (const fam of c.families) w.u16(fam.afi).u8(fam.safi).u8(fam.sendReceive);
      break;
    case 'fqdn': {
      const h = Buffer.from(c.hostname, 'latin1');
      const d = Buffer.from(c.domain, 'latin1');
      w.u8(h.length).bytes(h).u8(d.length).bytes(d);
      break;
    }
    case 'extended-next-hop':
      for (const t of c.tuples) w.u16(t.afi).u16(t.safi).u16(t.nextHopAfi);
      break;
    case 'multiple-labels':
      for (const fam of c.families) w.u16(fam.afi).u8(fam.safi).u8(fam.count);
      break;
    case 'unknown':
      w.bytes(c.raw);
      break;
  }
  const len = w.pos - lenAt - 1;
  if (len > 255) throw new RangeError(`capability ${c.code} value of ${len} bytes does not fit`);
  w.patchU8(lenAt, len);
}
