/**
 * ROUTE-REFRESH message body (RFC 2918) with the RFC 7313 subtype in the reserved byte and
 * RFC 5291 ORF entries kept opaque.
 */
import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { copyBytes } from './bytes.js';

export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;

export interface RouteRefreshMessage {
  afi: number;
  /** RFC 7313: 0 normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh. */
  subtype: number;
  safi: number;
  /** ORF entries (RFC 5291) after the AFI/SAFI, raw; absent when there are none. */
  orf?: Uint8Array;
}

export function decodeRouteRefresh(r: Reader): RouteRefreshMessage {
  const start = r.pos;
  const afi = r.u16('bgp.routeRefresh.afi');
  const subtype = r.u8('bgp.routeRefresh.subtype');
  const safi = r.u8('bgp.routeRefresh.safi');
  if ((subtype === RouteRefreshSubtype.BORR || subtype === RouteRefreshSubtype.EORR) && !r.atEnd()) {
    // RFC 7313 section 5: data = the whole ROUTE-REFRESH message; the body is what we hold.
    r.fail('bgp.routeRefresh', `BoRR/EoRR with ${r.remaining} extra bytes`, {
      code: 7,
      subcode: 1,
      data: copyBytes(r.buf, Math.max(0, start - 19), r.end),
    });
  }
  const m: RouteRefreshMessage = { afi, subtype, safi };
  if (!r.atEnd()) m.orf = r.rest();
  return m;
}

export function encodeRouteRefresh(w: Writer, m: RouteRefreshMessage): void {
  w.u16(m.afi).u8(m.subtype).u8(m.safi);
  if (m.orf) w.bytes(m.orf);
}
