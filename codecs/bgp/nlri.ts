import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { DecodeError } from '../util/errors.js';
import { toHex } from '../util/hex.js';
import { formatRd } from './rd.js';
import type { MplsLabel, Nlri, NlriOptions } from './nlri/types.js';
import { LABELED, PLAIN, VPN, decodeIpList, encodeIpNlri, type IpMode } from './nlri/ip.js';
import { decodeRtcList, encodeRtcNlri } from './nlri/rtc.js';
import { decodeEvpnList, encodeEvpnNlri } from './nlri/evpn.js';
import { copyBytes } from './bytes.js';

export type * from './nlri/types.js';
export { labelFromField, labelField } from './nlri/common.js';

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const AFI_L2VPN = 25;
export const SAFI_UNICAST = 1;
export const SAFI_MULTICAST = 2;
export const SAFI_LABELED = 4;
export const SAFI_EVPN = 70;
export const SAFI_VPN = 128;
export const SAFI_RTC = 132;

type Family = { type: 'ip'; v6: boolean; mode: IpMode } | { type: 'rtc' } | { type: 'evpn' } | { type: 'unknown' };

function family(afi: number, safi: number): Family {
  if (afi === AFI_IPV4 || afi === AFI_IPV6) {
    const v6 = afi === AFI_IPV6;
    if (safi === SAFI_UNICAST || safi === SAFI_MULTICAST) return { type: 'ip', v6, mode: PLAIN };
    if (safi === SAFI_LABELED) return { type: 'ip', v6, mode: LABELED };
    if (safi === SAFI_VPN) return { type: 'ip', v6, mode: VPN };
    if (safi === SAFI_RTC && !v6) return { type: 'rtc' };
  }
  if (afi === AFI_L2VPN && safi === SAFI_EVPN) return { type: 'evpn' };
  return { type: 'unknown' };
}

function maxLabelsOf(opts: NlriOptions): number {
  const m = opts.maxLabels ?? 1;
  return Number.isInteger(m) && m >= 1 ? m : 1;
}

/**
 * Decode the NLRI of one family from `r` until the end of its window (the UPDATE's NLRI field,
 * withdrawn routes, or the tail of MP_REACH/MP_UNREACH). `withdraw` marks MP_UNREACH, whose
 * label field is a compatibility value rather than a label stack. Errors are DecodeErrors
 * with NOTIFICATION 3/10 naming e.g. 'bgp.nlri[2].length' and the absolute offset.
 */
export function decodeNlriList(r: Reader, afi: number, safi: number, opts: NlriOptions, withdraw: boolean): Nlri[] {
  const base = opts.field ?? 'bgp.nlri';
  const addPath = opts.addPath === true;
  const f = family(afi, safi);
  try {
    switch (f.type) {
      case 'ip':
        return decodeIpList(r, f.v6, f.mode, addPath, maxLabelsOf(opts), withdraw, base);
      case 'rtc':
        return decodeRtcList(r, addPath, base);
      case 'evpn':
        return decodeEvpnList(r, addPath, base);
      case 'unknown': {
        if (r.atEnd()) return [];
        // A copy: decoded routes outlive the message buffer.
        const raw = copyBytes(r.buf, r.pos, r.end);
        r.pos = r.end;
        return [{ kind: 'unknown', raw }];
      }
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // The loops check every bound first; anything else is a bug, reported as a DecodeError so
    // a hostile UPDATE can never crash the session with another exception type.
    throw new DecodeError(`${base}`, r.pos, `internal decoder error: ${String(e)}`, { code: 3, subcode: 10 });
  }
}

/** Encode NLRIs of one family (no surrounding length). Bad values are the caller's bug: TypeError. */
export function encodeNlriList(w: Writer, afi: number, safi: number, list: Nlri[], opts: NlriOptions): void {
  const addPath = opts.addPath === true;
  const f = family(afi, safi);
  for (const n of list) {
    if (n.kind === 'unknown') {
      w.bytes(n.raw);
      continue;
    }
    switch (f.type) {
      case 'ip':
        if ((n.kind === 'prefix' && f.mode === PLAIN) || (n.kind === 'labeled' && f.mode === LABELED) || (n.kind === 'vpn' && f.mode === VPN)) {
          encodeIpNlri(w, n, f.v6, addPath);
          continue;
        }
        break;
      case 'rtc':
        if (n.kind === 'rtc') {
          encodeRtcNlri(w, n, addPath);
          continue;
        }
        break;
      case 'evpn':
        if (n.kind === 'evpn') {
          encodeEvpnNlri(w, n, addPath);
          continue;
        }
        break;
      case 'unknown':
        break;
    }
    throw new TypeError(`NLRI of kind '${n.kind}' cannot be encoded for AFI ${afi} SAFI ${safi}`);
  }
}

/**
 * Label stack text as tshark prints it: '100 (bottom)', '100,101,102,103 (bottom)', and
 * '0 (withdrawn)' when the first field is 0x000000 or 0x800000 (withdrawal compatibility values).
 */
export function formatLabelStack(labels: readonly MplsLabel[]): string {
  const first = labels[0];
  if (first === undefined) return '';
  const f0 = first.raw ?? (first.value << 4) | ((first.tc ?? 0) << 1) | (first.bottom ? 1 : 0);
  if (f0 === 0 || f0 === 0x800000) return '0 (withdrawn)';
  let s = '';
  for (let i = 0; i < labels.length; i++) s += (i ? ',' : '') + labels[i]!.value;
  return labels[labels.length - 1]!.bottom ? `${s} (bottom)` : s;
}

/** One-line text of an NLRI for logs and `weft decode` (not a stable key format). */
export function formatNlri(n: Nlri): string {
  const pid = 'pathId' in n && n.pathId !== undefined ? ` path-id ${n.pathId}` : '';
  switch (n.kind) {
    case 'prefix':
      return n.prefix + pid;
    case 'labeled':
      return `${n.prefix} label ${formatLabelStack(n.labels)}${pid}`;
    case 'vpn':
      return `${formatRd(n.rd)}:${n.prefix} label ${formatLabelStack(n.labels)}${pid}`;
    case 'rtc':
      return n.length === 0 ? `rtc default${pid}` : `rtc ${n.originAs}:${n.rt ?? toHex(n.routeTarget)}/${n.length}${pid}`;
    case 'evpn':
      return `evpn type ${n.routeType}${'rd' in n ? ` ${formatRd(n.rd)}` : ''}${'mac' in n ? ` ${n.mac}` : ''}${'prefix' in n ? ` ${n.prefix}` : ''}${pid}`;
    case 'unknown':
      return `unknown (${n.raw.length} bytes)`;
  }
}
