/**
 * The `virtual-network` fields of a route item as the control node sent it, read with plain
 * string scans (as ScriptedAgent reads next hops): the entry's and each next hop's.
 */
export interface ItemNetworks {
  entry: string | undefined;
  hops: string[];
}

const VN = /<virtual-network>([^<]*)<\/virtual-network>/;
const NEXT_HOP = /<next-hop>([\s\S]*?)<\/next-hop>/g;

export function networksOf(item: string): ItemNetworks {
  const hops = [...item.matchAll(NEXT_HOP)].map((h) => VN.exec(h[1]!)?.[1] ?? '');
  const entry = VN.exec(item.replace(NEXT_HOP, ''))?.[1];
  return { entry, hops };
}
