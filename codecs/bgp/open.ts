/**
 * OPEN message body (RFC 4271 section 4.2) with RFC 9072 extended optional parameters.
 *
 * Error policy: a version other than 4 is 2/1 (data: the version we support, as RFC 4271
 * asks). Any malformation of the body (a parameter or capability overrunning its container,
 * a capability value that does not fit its layout, bytes left over) is 2/0 "unspecific":
 * RFC 4271 names no subcode for it. Peer AS (2/2), BGP Identifier (2/3), unsupported
 * parameters or capabilities (2/4, 2/7) and hold time (2/6) are session decisions.
 */
import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import type { NotificationHint } from '../util/errors.js';
import { decodeCapability, encodeCapability, type Capability } from './capabilities.js';

export const OPEN_PARAM_CAPABILITIES = 2;
/** RFC 9072: Non-Ext OP Type value that announces the extended form. */
const EXTENDED_PARAMS_MARK = 255;

export type OptionalParameter =
  | { kind: 'capabilities'; type: 2; capabilities: Capability[] }
  /** Parameter types other than 2 (authentication 1 is deprecated): kept opaque. */
  | { kind: 'unknown'; type: number; raw: Uint8Array };

export interface OpenMessage {
  version: number;
  /** 2-octet My AS field (23456 AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  params: OptionalParameter[];
  /** RFC 9072 form (255, 255, 2-byte length, 2-byte parameter lengths). Kept for the round trip. */
  extendedParams?: boolean;
}

const MALFORMED: NotificationHint = { code: 2, subcode: 0 };

/** Decodes the OPEN body in r's window (header already consumed). */
export function decodeOpen(r: Reader): OpenMessage {
  r.hint = MALFORMED;
  const version = r.u8('bgp.open.version');
  if (version !== 4) {
    r.fail('bgp.open.version', `unsupported version ${version}`, { code: 2, subcode: 1, data: Uint8Array.of(0, 4) }, r.pos - 1);
  }
  const myAs = r.u16('bgp.open.myAs');
  const holdTime = r.u16('bgp.open.holdTime');
  const bgpId = r.ipv4('bgp.open.bgpId');
  let optLen = r.u8('bgp.open.optParamLength');
  let extended = false;
  if (optLen === EXTENDED_PARAMS_MARK && r.remaining > 0 && r.peekU8('bgp.open.params') === EXTENDED_PARAMS_MARK) {
    r.u8('bgp.open.extendedMark');
    optLen = r.u16('bgp.open.extendedParamLength');
    extended = true;
  }
  if (optLen !== r.remaining) {
    r.fail('bgp.open.optParamLength', `says ${optLen} bytes, message has ${r.remaining}`, MALFORMED);
  }
  const params: OptionalParameter[] = [];
  while (!r.atEnd()) {
    const f = `bgp.open.params[${params.length}]`;
    const type = r.u8(`${f}.type`);
    const len = extended ? r.u16(`${f}.length`) : r.u8(`${f}.length`);
    const v = r.sub(len, `${f}.value`, MALFORMED);
    if (type === OPEN_PARAM_CAPABILITIES) {
      const capabilities: Capability[] = [];
      while (!v.atEnd()) capabilities.push(decodeCapability(v, `${f}.capabilities[${capabilities.length}]`));
      params.push({ kind: 'capabilities', type, capabilities });
    } else {
      params.push({ kind: 'unknown', type, raw: v.rest() });
    }
  }
  const open: OpenMessage = { version, myAs, holdTime, bgpId, params };
  if (extended) open.extendedParams = true;
  return open;
}

export function encodeOpen(w: Writer, m: OpenMessage): void {
  w.u8(m.version).u16(m.myAs).u16(m.holdTime).ipv4(m.bgpId);
  // Encode the parameters first to learn whether they fit the 1-byte form.
  const lenAt = w.pos;
  let extended = m.extendedParams === true;
  const tryEncode = (ext: boolean): number => {
    w.pos = lenAt;
    if (ext) w.u8(EXTENDED_PARAMS_MARK).u8(EXTENDED_PARAMS_MARK).u16(0);
    else w.u8(0);
    const start = w.pos;
    for (const p of m.params) {
      w.u8(p.type);
      const plenAt = w.pos;
      if (ext) w.u16(0);
      else w.u8(0);
      const pstart = w.pos;
      if (p.kind === 'capabilities') for (const c of p.capabilities) encodeCapability(w, c);
      else w.bytes(p.raw);
      const plen = w.pos - pstart;
      if (!ext && plen > 255) return -1;
      if (ext) w.patchU16(plenAt, plen);
      else w.patchU8(plenAt, plen);
    }
    return w.pos - start;
  };
  let total = tryEncode(extended);
  // 255 bytes fit the 1-byte form unless the first parameter type is also 255 (RFC 9072 mark).
  if (!extended && (total < 0 || total > 255 || (total === 255 && m.params[0]?.type === EXTENDED_PARAMS_MARK))) {
    extended = true;
    total = tryEncode(true);
  }
  if (extended) w.patchU16(lenAt + 2, total);
  else w.patchU8(lenAt, total);
}

/** All capabilities of an OPEN, in order, whatever parameter carries them. */
export function openCapabilities(m: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of m.params) if (p.kind === 'capabilities') out.push(...p.capabilities);
  return out;
}

/** The AS the peer really has: the 4-octet AS capability if present, else My AS. */
export function openAsn(m: OpenMessage): number {
  for (const c of openCapabilities(m)) if (c.kind === 'four-octet-as') return c.asn;
  return m.myAs;
}
