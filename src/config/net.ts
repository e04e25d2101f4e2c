/**
 * Schemas for network values. They reuse the codecs' parsers, so the config accepts exactly
 * what the wire code can encode, and they normalise (IPv6 to RFC 5952, route targets to one
 * spelling) so two spellings of one neighbour or RT compare equal downstream.
 */
import { formatIpv6 } from '../../codecs/util/reader.js';
import { parseIpv4, parseIpv6 } from '../../codecs/util/writer.js';
import { formatExtCommunity, parseRouteTarget } from '../rib/route-target.js';
import { ValueError, textOf } from './schema.js';
import type { Schema } from './schema.js';

export type IpFamily = 'ipv4' | 'ipv6';

function v4(s: string): string | undefined {
  const b = parseIpv4(s);
  const text = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  // '010.0.0.1' is octal to inet_aton and decimal to others: refuse rather than guess.
  return text === s ? text : undefined;
}

function v6(s: string): string | undefined {
  return s.includes(':') ? formatIpv6(parseIpv6(s)) : undefined;
}

export function ipv4(): Schema<string> {
  return textOf('an IPv4 address', v4);
}

/** A BGP identifier or cluster id: a dotted quad other than 0.0.0.0 (RFC 6286). */
export function routerId(): Schema<string> {
  return textOf('a non-zero IPv4 address', (s) => {
    const a = v4(s);
    return a === '0.0.0.0' ? undefined : a;
  });
}

export function ipv6(): Schema<string> {
  return textOf('an IPv6 address', v6);
}

export function ipAddress(): Schema<string> {
  return textOf('an IPv4 or IPv6 address', (s) => (s.includes(':') ? v6(s) : v4(s)));
}

export function ipFamilyOf(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * 'a.b.c.d/len' or 'x::/len'. Host bits must be zero: '10.0.0.1/8' is more likely a typo than
 * a prefix, and silently masking it would hide that.
 */
export function prefix(family?: IpFamily): Schema<string> {
  const what = family === 'ipv4' ? 'an IPv4 prefix' : family === 'ipv6' ? 'an IPv6 prefix' : 'an IP prefix';
  return textOf(`${what} (address/length)`, (s) => {
    const slash = s.indexOf('/');
    if (slash < 0) return undefined;
    const addrText = s.slice(0, slash);
    const lenText = s.slice(slash + 1);
    const isV6 = addrText.includes(':');
    if (family && family !== (isV6 ? 'ipv6' : 'ipv4')) return undefined;
    const bytes = isV6 ? parseIpv6(addrText) : parseIpv4(addrText);
    const max = bytes.length * 8;
    const len = Number(lenText);
    if (lenText.length === 0 || lenText.length > 3 || !Number.isInteger(len) || len < 0 || len > max || !/^\d+$/.test(lenText)) {
      return undefined;
    }
    for (let bit = len; bit < max; bit++) {
      if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) {
        const masked = bytes.slice();
        for (let b = len; b < max; b++) masked[b >> 3]! &= ~(0x80 >> (b & 7));
        const net = isV6 ? formatIpv6(masked) : `${masked[0]}.${masked[1]}.${masked[2]}.${masked[3]}`;
        throw new ValueError(`host bits set past /${len} (did you mean ${net}/${len}?)`);
      }
    }
    return `${isV6 ? formatIpv6(bytes) : `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`}/${len}`;
  });
}

/**
 * 'target:64512:100', 'target:10.0.0.1:5', 'target:4200000000:5', 'target:64512L:5' (the
 * 4-byte-AS form of a small AS). The 'target:' prefix may be left out; values come back with it.
 */
export function routeTarget(): Schema<string> {
  return textOf('a route target like target:64512:100', (s) => formatExtCommunity(parseRouteTarget(s)));
}
