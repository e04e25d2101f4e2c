/**
 * UPDATE message body (RFC 4271 section 4.3) with RFC 7606 revised error handling.
 *
 * `decodeUpdate` never throws: it returns what it could read and a verdict (the strongest
 * RFC 7606 action over all errors, the NOTIFICATION to send if that action is a session
 * reset, and every error found). `decodeUpdateStrict` is for tools (`weft decode`): it throws
 * the first error as a DecodeError.
 *
 * Classification (RFC 7606 sections 3, 4, 5, 7):
 * - withdrawn-routes or attribute lengths inconsistent with the message: session reset, 3/1
 * - withdrawn routes or NLRI field malformed: session reset, 3/10
 * - an attribute overrunning the attribute block, or fewer than 3 (4) bytes left for a
 *   header: treat-as-withdraw (section 4; the Total Attribute Length still locates the NLRI),
 *   but session reset (3/1) when the overrunning attribute is MP_REACH/MP_UNREACH, whose
 *   routes could then not be withdrawn
 * - MP_REACH/MP_UNREACH twice: session reset, 3/1; any other attribute twice: later copies
 *   discarded (attribute-discard)
 * - Optional/Transitive flags wrong for a known type: treat-as-withdraw, 3/4
 * - unrecognized well-known attribute: session reset, 3/2
 * - a malformed value: the per-type action of `actionFor` (3/5, 3/6, 3/8, 3/9, 3/11)
 * - MP_REACH/MP_UNREACH value malformed after its AFI/SAFI: AFI/SAFI disable (3/9 if the
 *   session resets instead); before it: session reset
 * Missing well-known attributes (3/3) depend on the session (iBGP needs LOCAL_PREF): see
 * `missingWellKnown`.
 */
import { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { DecodeError, type NotificationHint } from '../util/errors.js';
import { decodeNlriList, encodeNlriList, type Nlri } from './nlri.js';
import {
  ACTION_RANK,
  AttrFlag,
  H_FLAGS,
  H_LIST,
  H_NETWORK,
  H_OPTIONAL,
  actionFor,
  attrField,
  decodeAttributeValue,
  encodeAttribute,
  flagsOk,
  nlriOptions,
  valueHint,
  withData,
  type AttrContext,
  type PathAttribute,
  type Rfc7606Action,
} from './attributes.js';
import type { BgpCodecOptions } from './options.js';
import { copyBytes } from './bytes.js';

export interface UpdateMessage {
  /** IPv4 unicast withdrawn routes (RFC 4271 field). */
  withdrawn: Nlri[];
  attributes: PathAttribute[];
  /** IPv4 unicast NLRI (RFC 4271 field). */
  nlri: Nlri[];
}

export interface UpdateError {
  error: DecodeError;
  action: Rfc7606Action;
}

export interface UpdateVerdict {
  /** Strongest action over all errors; undefined when the UPDATE is clean. */
  action?: Rfc7606Action;
  /** NOTIFICATION for a session reset (also the fallback when AFI/SAFI disable is not done). */
  notification?: NotificationHint;
  /** In message order. */
  errors: UpdateError[];
  /** Families whose MP attribute was malformed (for AFI/SAFI disable). */
  families?: { afi: number; safi: number }[];
}

export interface DecodedUpdate {
  update: UpdateMessage;
  verdict: UpdateVerdict;
}

const MP_REACH = 14;
const MP_UNREACH = 15;

class Verdict implements UpdateVerdict {
  action?: Rfc7606Action;
  notification?: NotificationHint;
  errors: UpdateError[] = [];
  families?: { afi: number; safi: number }[];

  add(error: DecodeError, action: Rfc7606Action): void {
    this.errors.push({ error, action });
    if (this.action === undefined || ACTION_RANK[action] > ACTION_RANK[this.action]) {
      this.action = action;
      if (action === 'session-reset' || action === 'afi-safi-disable') this.notification = error.notification ?? H_LIST;
    }
  }

  plain(): UpdateVerdict {
    const v: UpdateVerdict = { errors: this.errors };
    if (this.action !== undefined) v.action = this.action;
    if (this.notification !== undefined) v.notification = this.notification;
    if (this.families !== undefined) v.families = this.families;
    return v;
  }
}

function asDecodeError(e: unknown, at: number, hint: NotificationHint): DecodeError {
  if (e instanceof DecodeError) return e;
  // A bug in a nested decoder must still not escape as another exception type.
  return new DecodeError('bgp.update', at, `internal decoder error: ${String(e)}`, hint);
}

/** Lenient decode of the UPDATE body in `body` (a Reader windowed on it, or the bytes). */
export function decodeUpdate(body: Reader | Uint8Array, opts: BgpCodecOptions): DecodedUpdate {
  const r = body instanceof Reader ? body : new Reader(body);
  r.hint = H_LIST;
  const update: UpdateMessage = { withdrawn: [], attributes: [], nlri: [] };
  const verdict = new Verdict();
  try {
    decodeInto(r, opts, update, verdict);
  } catch (e) {
    verdict.add(asDecodeError(e, r.pos, H_LIST), 'session-reset');
  }
  return { update, verdict: verdict.plain() };
}

/** Strict decode: the first error (attribute or message level) is thrown. */
export function decodeUpdateStrict(body: Reader | Uint8Array, opts: BgpCodecOptions): UpdateMessage {
  const { update, verdict } = decodeUpdate(body, opts);
  const first = verdict.errors[0];
  if (first) throw first.error;
  return update;
}

function decodeInto(r: Reader, opts: BgpCodecOptions, update: UpdateMessage, verdict: Verdict): void {
  const wlen = r.u16('bgp.update.withdrawnLength');
  if (wlen > r.remaining) {
    r.fail('bgp.update.withdrawnLength', `${wlen} bytes of withdrawn routes, ${r.remaining} left`, H_LIST, r.pos - 2);
  }
  const wr = r.sub(wlen, 'bgp.update.withdrawn', H_NETWORK);
  update.withdrawn = decodeNlriList(wr, 1, 1, nlriOptions(opts, 1, 1, 'bgp.update.withdrawn'), false);
  const alen = r.u16('bgp.update.pathAttributeLength');
  if (alen > r.remaining) {
    r.fail('bgp.update.pathAttributeLength', `${alen} bytes of attributes, ${r.remaining} left`, H_LIST, r.pos - 2);
  }
  const ar = r.sub(alen, 'bgp.update.attributes', H_LIST);
  decodeAttributes(ar, opts, update.attributes, verdict);
  // The Total Attribute Length locates the NLRI whatever happened inside the attributes.
  try {
    update.nlri = decodeNlriList(r, 1, 1, nlriOptions(opts, 1, 1, 'bgp.update.nlri'), false);
  } catch (e) {
    verdict.add(asDecodeError(e, r.pos, H_NETWORK), 'session-reset');
  }
}

function decodeAttributes(ar: Reader, opts: BgpCodecOptions, out: PathAttribute[], verdict: Verdict): void {
  const buf = ar.buf;
  // Which type codes were seen (RFC 7606 3g); one small array per UPDATE.
  const seen = new Uint8Array(256);
  const ctx: AttrContext = {};
  while (!ar.atEnd()) {
    const attrStart = ar.pos;
    const flags = buf[attrStart]!;
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    if (ar.remaining < (ext ? 4 : 3)) {
      const e = new DecodeError('bgp.update.attr', attrStart, `${ar.remaining} bytes left, too few for an attribute header`, H_LIST);
      out.push({ kind: 'malformed', flags, code: ar.remaining > 1 ? buf[attrStart + 1]! : 0, raw: copyBytes(ar.rest()), error: e, action: 'treat-as-withdraw' });
      verdict.add(e, 'treat-as-withdraw');
      return;
    }
    const code = buf[attrStart + 1]!;
    ar.pos += 2;
    const len = ext ? ar.u16('bgp.update.attr.length') : ar.u8('bgp.update.attr.length');
    const valueStart = ar.pos;
    if (len > ar.remaining) {
      const mp = code === MP_REACH || code === MP_UNREACH;
      const e = new DecodeError(`${attrField(code)}.length`, attrStart + 2, `length ${len} overruns the attribute block (${ar.remaining} left)`, H_LIST);
      const action: Rfc7606Action = mp ? 'session-reset' : 'treat-as-withdraw';
      out.push({ kind: 'malformed', flags, code, raw: copyBytes(ar.rest()), error: e, action });
      verdict.add(e, action);
      return;
    }
    const valueEnd = valueStart + len;
    ar.pos = valueEnd;

    const repeated = seen[code] === 1;
    seen[code] = 1;
    const v = new Reader(buf, valueStart, valueEnd, valueHint(code));
    ctx.afi = undefined;
    ctx.safi = undefined;
    let attr: PathAttribute;
    try {
      attr = decodeAttributeValue(v, flags, code, opts, ctx);
      if (!v.atEnd()) v.fail(attrField(code), `${v.remaining} bytes after the value`, valueHint(code));
    } catch (err) {
      const de = asDecodeError(err, v.pos, valueHint(code));
      let hint = de.notification ?? valueHint(code);
      let action: Rfc7606Action;
      if (hint.subcode === 2) action = 'session-reset';
      else if (code === MP_REACH || code === MP_UNREACH) {
        // RFC 4760 section 7: Optional Attribute Error, whatever went wrong inside.
        hint = H_OPTIONAL;
        if (ctx.afi !== undefined && ctx.safi !== undefined) {
          action = 'afi-safi-disable';
          (verdict.families ??= []).push({ afi: ctx.afi, safi: ctx.safi });
        } else action = 'session-reset';
      } else action = actionFor(code);
      if (repeated && (code === MP_REACH || code === MP_UNREACH)) action = 'session-reset';
      const e2 = withData(de, hint, copyBytes(buf, attrStart, valueEnd));
      out.push({ kind: 'malformed', flags, code, raw: copyBytes(buf, valueStart, valueEnd), error: e2, action });
      verdict.add(e2, action);
      continue;
    }
    if (repeated) {
      // RFC 7606 3g. The value is still decoded, for display.
      const mp = code === MP_REACH || code === MP_UNREACH;
      const action: Rfc7606Action = mp ? 'session-reset' : 'attribute-discard';
      const e = new DecodeError(attrField(code), attrStart, `attribute ${code} repeated`, H_LIST);
      out.push({ kind: 'malformed', flags, code, raw: copyBytes(buf, valueStart, valueEnd), error: e, action, value: attr });
      verdict.add(e, action);
      continue;
    }
    if (!flagsOk(flags, code)) {
      const e = new DecodeError(`${attrField(code)}.flags`, attrStart, `flags 0x${flags.toString(16).padStart(2, '0')} wrong for attribute ${code}`, {
        ...H_FLAGS,
        data: copyBytes(buf, attrStart, valueEnd),
      });
      out.push({ kind: 'malformed', flags, code, raw: copyBytes(buf, valueStart, valueEnd), error: e, action: 'treat-as-withdraw', value: attr });
      verdict.add(e, 'treat-as-withdraw');
      continue;
    }
    out.push(attr);
  }
}

export function encodeUpdate(w: Writer, u: UpdateMessage, opts: BgpCodecOptions): void {
  const v4 = nlriOptions(opts, 1, 1, '');
  const wlenAt = w.pos;
  w.u16(0);
  encodeNlriList(w, 1, 1, u.withdrawn, v4);
  w.patchU16(wlenAt, w.pos - wlenAt - 2);
  const alenAt = w.pos;
  w.u16(0);
  for (const a of u.attributes) encodeAttribute(w, a, opts);
  w.patchU16(alenAt, w.pos - alenAt - 2);
  encodeNlriList(w, 1, 1, u.nlri, v4);
}

/** The attribute of a type code (the first one; repeats are discarded per RFC 7606). */
export function findAttribute(u: UpdateMessage, code: number): PathAttribute | undefined {
  for (const a of u.attributes) if (a.code === code) return a;
  return undefined;
}

/**
 * RFC 4271 section 5 / RFC 7606 section 3d: ORIGIN and AS_PATH when the UPDATE carries
 * reachable routes, NEXT_HOP when the IPv4 NLRI field is not empty, LOCAL_PREF on iBGP.
 * Returns the missing type codes and the NOTIFICATION (3/3, data = the first missing code)
 * that a session reset would send; RFC 7606 asks for treat-as-withdraw instead.
 */
export function missingWellKnown(u: UpdateMessage, ibgp = false): { missing: number[]; notification: NotificationHint } | undefined {
  const has = (code: number) => u.attributes.some((a) => a.code === code);
  const reach = u.nlri.length > 0 || has(MP_REACH);
  if (!reach) return undefined;
  const missing: number[] = [];
  if (!has(1)) missing.push(1);
  if (!has(2)) missing.push(2);
  if (u.nlri.length > 0 && !has(3)) missing.push(3);
  if (ibgp && !has(5)) missing.push(5);
  if (missing.length === 0) return undefined;
  return { missing, notification: { code: 3, subcode: 3, data: Uint8Array.of(missing[0]!) } };
}

/** End-of-RIB marker (RFC 4724 section 2): the family, or undefined for other UPDATEs. */
export function endOfRib(u: UpdateMessage): { afi: number; safi: number } | undefined {
  if (u.withdrawn.length || u.nlri.length) return undefined;
  if (u.attributes.length === 0) return { afi: 1, safi: 1 };
  const a = u.attributes[0]!;
  if (u.attributes.length === 1 && a.kind === 'mp-unreach' && a.withdrawn.length === 0) return { afi: a.afi, safi: a.safi };
  return undefined;
}
