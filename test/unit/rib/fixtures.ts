import { AttrStore, bgpSource, localSource, pathKey, xmppSource } from '../../../src/rib/path.js';
import type { AttrInput, BgpSource, Path, PathSource } from '../../../src/rib/path.js';

export const store = new AttrStore();

export function ebgp(peer: string, asn: number, routerId = peer): BgpSource {
  return bgpSource({ peer, routerId, asn, session: 'ebgp', rrClient: false });
}

export function ibgp(peer: string, opts: { routerId?: string; rrClient?: boolean } = {}): BgpSource {
  return bgpSource({
    peer,
    routerId: opts.routerId ?? peer,
    asn: 64512,
    session: 'ibgp',
    rrClient: opts.rrClient ?? false,
  });
}

export const agent = (name: string, address: string): PathSource => xmppSource(name, address);
export const local = (name: string): PathSource => localSource(name);

let seq = 0;

/** A Path as a Table would hold it, for testing the pure selection directly. */
export function mkPath(
  source: PathSource,
  attrs: Partial<AttrInput> = {},
  more: { pathId?: number; stale?: boolean; labels?: number[] } = {},
): Path {
  const pathId = more.pathId ?? 0;
  return {
    key: pathKey({ source, pathId }),
    source,
    pathId,
    attrs: store.intern({ nextHop: '192.0.2.1', ...attrs }),
    ...(more.labels ? { labels: more.labels } : {}),
    stale: more.stale ?? false,
    receivedAt: ++seq,
  };
}

export const seqPath = (...asns: number[]) => [{ type: 'sequence' as const, asns }];
