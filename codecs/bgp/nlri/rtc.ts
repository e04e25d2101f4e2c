import type { Reader } from '../../util/reader.js';
import type { Writer } from '../../util/writer.js';
import { formatRouteTarget } from '../rd.js';
import type { RtcNlri } from './types.js';
import { nlriFail, short } from './common.js';
import { copyBytes } from '../bytes.js';

/**
 * Route target membership NLRI (RFC 4684 section 4): a bit length, then origin AS (4 bytes) and
 * a route-target prefix of length - 32 bits. Length 0 is the default route (no origin AS);
 * 1..31 would cut the origin AS and is rejected, as is anything past 96.
 */
export function decodeRtcList(r: Reader, addPath: boolean, base: string): RtcNlri[] {
  const b = r.buf;
  const end = r.end;
  const out: RtcNlri[] = [];
  let p = r.pos;
  for (let i = 0; p < end; i++) {
    let pathId: number | undefined;
    if (addPath) {
      if (p + 4 > end) nlriFail(base, i, 'pathId', p, short(4, end - p));
      pathId = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      p += 4;
      if (p >= end) nlriFail(base, i, 'length', p, short(1, 0));
    }
    const lenAt = p;
    const length = b[p++]!;
    if (length === 0) {
      out.push({ kind: 'rtc', pathId, length: 0, routeTarget: new Uint8Array(0) });
      continue;
    }
    if (length < 32 || length > 96) {
      nlriFail(base, i, 'length', lenAt, `route target membership length ${length} is not 0 or 32..96`);
    }
    if (p + 4 > end) nlriFail(base, i, 'originAs', p, short(4, end - p));
    const originAs = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    p += 4;
    const n = (length - 32 + 7) >> 3;
    if (p + n > end) nlriFail(base, i, 'routeTarget', p, short(n, end - p));
    const routeTarget = copyBytes(b, p, p + n);
    p += n;
    const nlri: RtcNlri = { kind: 'rtc', pathId, length, originAs, routeTarget };
    if (length === 96) nlri.rt = formatRouteTarget(routeTarget);
    out.push(nlri);
  }
  r.pos = p;
  return out;
}

export function encodeRtcNlri(w: Writer, n: RtcNlri, addPath: boolean): void {
  if (addPath) {
    if (n.pathId === undefined) throw new TypeError('ADD-PATH RTC NLRI has no pathId');
    w.u32(n.pathId);
  }
  w.u8(n.length);
  if (n.length === 0) return;
  const want = (n.length - 32 + 7) >> 3;
  if (n.length < 32 || n.length > 96 || n.originAs === undefined || n.routeTarget.length !== want) {
    throw new TypeError(`RTC NLRI of length ${n.length} needs an origin AS and ${want} route-target bytes`);
  }
  w.u32(n.originAs).bytes(n.routeTarget);
}
