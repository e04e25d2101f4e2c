/** `--json` output: the table values themselves, opaque bytes as hex. */
import { toHex } from '../../../codecs/util/hex.js';

export function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? toHex(value) : value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2);
}
