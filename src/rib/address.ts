import { parseIpv4, parseIpv6 } from '../../codecs/util/writer.js';

/**
 * Numeric order of text addresses, for the tie-breakers that say "lowest router id / peer
 * address". Only reached when every earlier step ties, so parsing on demand is cheaper than
 * storing a parsed copy on every path. IPv4 sorts before IPv6; text that is neither sorts last,
 * by string, so a bad config value cannot make the order partial.
 */
export function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  const ka = addressBytes(a);
  const kb = addressBytes(b);
  if (ka && kb) {
    if (ka.length !== kb.length) return ka.length - kb.length;
    for (let i = 0; i < ka.length; i++) {
      const d = ka[i]! - kb[i]!;
      if (d !== 0) return d;
    }
    return 0;
  }
  if (ka) return -1;
  if (kb) return 1;
  return a < b ? -1 : 1;
}

function addressBytes(s: string): Uint8Array | undefined {
  try {
    return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
  } catch {
    return undefined;
  }
}
