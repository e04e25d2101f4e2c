/**
 * Shape shared by the net encoders: a decoded value has every field filled in, while an
 * encoder accepts the same value with the fields it can work out (lengths, checksums, padding)
 * left undefined. Writing a field as given, even a wrong one, is what makes
 * `encode(decode(x))` give back x for captures with bad checksums or lying lengths.
 */
export type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** Shared empty view, so absent trailers and payloads cost no allocation. */
export const EMPTY: Uint8Array = new Uint8Array(0);
