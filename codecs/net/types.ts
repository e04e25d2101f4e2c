import type { Reader } from '../util/reader.js';

/**
 * Shape shared by the net encoders: a decoded value has every field filled in, while an
 * encoder accepts the same value with the fields it can work out (lengths, checksums, padding)
 * left undefined. Writing a field as given, even a wrong one, is what makes
 * `encode(decode(x))` give back x for captures with bad checksums or lying lengths.
 */
export type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** Shared empty view, so absent trailers and payloads cost no allocation. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The bytes a length field claims, then what follows it (Ethernet padding) as the trailer. A
 * capture cut by its snap length holds fewer bytes than claimed: that is `truncated`, not an error.
 */
export function splitByLength(
  r: Reader,
  length: number,
  field: string,
): { payload: Uint8Array; trailer: Uint8Array; truncated: boolean } {
  if (length <= r.remaining) {
    const payload = r.bytes(length, field);
    return { payload, trailer: r.rest(), truncated: false };
  }
  return { payload: r.rest(), trailer: EMPTY, truncated: true };
}

/**
 * The option layout IPv4 (RFC 791) and TCP (RFC 9293) share: kind 0 ends the list (what follows
 * is padding), kind 1 is a one-byte NOP, every other kind carries a length that counts itself.
 */
export function readKindLengthOptions<T>(
  r: Reader,
  proto: string,
  eol: T,
  nop: T,
  parse: (kind: number, length: number, body: Reader) => T,
): T[] {
  const list: T[] = [];
  while (!r.atEnd()) {
    const at = r.pos;
    const kind = r.u8(`${proto}.options.kind`);
    if (kind === 0) {
      list.push(eol);
      break;
    }
    if (kind === 1) {
      list.push(nop);
      continue;
    }
    const field = `${proto}.options[${list.length}].length`;
    const length = r.u8(field);
    if (length < 2) r.fail(field, `option length ${length} is below 2`, undefined, at + 1);
    list.push(parse(kind, length, r.sub(length - 2, field)));
  }
  return list;
}
