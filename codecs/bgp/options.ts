import { openCapabilities, type OpenMessage } from './open.js';

/** What the OPEN exchange decided and the message codecs need to know. */
export interface BgpCodecOptions {
  /** Both sides sent the 4-octet AS capability (RFC 6793): AS_PATH/AGGREGATOR use 4 octets. */
  fourOctetAs: boolean;
  /** ADD-PATH (RFC 7911) negotiated for receiving this AFI/SAFI: NLRI carry a path id. */
  addPath?: (afi: number, safi: number) => boolean;
  /** Extended Message (RFC 8654) negotiated: messages up to 65535 bytes. */
  extendedMessage?: boolean;
  /** Labels per labeled NLRI (RFC 8277 Multiple Labels); 1 when absent. */
  multipleLabels?: (afi: number, safi: number) => number;
}

/**
 * Options for decoding what `remote` sends us, given both OPENs (RFC 6793, RFC 8654,
 * RFC 7911: we receive path ids where we said receive and the peer said send, RFC 8277:
 * up to the label count we advertised, when the peer advertised the capability too).
 */
export function negotiateOptions(local: OpenMessage, remote: OpenMessage): BgpCodecOptions {
  const l = openCapabilities(local);
  const r = openCapabilities(remote);
  const both = (kind: string) => l.some((c) => c.kind === kind) && r.some((c) => c.kind === kind);
  const key = (afi: number, safi: number) => afi * 256 + safi;
  const addPath = new Set<number>();
  const labels = new Map<number, number>();
  for (const c of l) {
    if (c.kind === 'add-path') {
      for (const f of c.families) {
        if ((f.sendReceive & 1) === 0) continue;
        const peerSends = r.some((p) => p.kind === 'add-path' && p.families.some((g) => g.afi === f.afi && g.safi === f.safi && (g.sendReceive & 2) !== 0));
        if (peerSends) addPath.add(key(f.afi, f.safi));
      }
    }
    if (c.kind === 'multiple-labels') {
      for (const f of c.families) {
        const peer = r.some((p) => p.kind === 'multiple-labels' && p.families.some((g) => g.afi === f.afi && g.safi === f.safi));
        if (peer && f.count > 1) labels.set(key(f.afi, f.safi), f.count);
      }
    }
  }
  const opts: BgpCodecOptions = { fourOctetAs: both('four-octet-as') };
  if (both('extended-message')) opts.extendedMessage = true;
  if (addPath.size) opts.addPath = (afi, safi) => addPath.has(key(afi, safi));
  if (labels.size) opts.multipleLabels = (afi, safi) => labels.get(key(afi, safi)) ?? 1;
  return opts;
}
