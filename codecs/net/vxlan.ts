/** VXLAN header (RFC 7348); the payload is the inner Ethernet frame. */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import type { Optional } from './types.js';

export const VXLAN_PORT = 4789;
/** The I flag: the VNI is valid. The only flag RFC 7348 defines. */
export const VXLAN_FLAG_I = 0x08;

export interface VxlanPacket {
  /** All eight flag bits; 0x08 (I) on a conforming sender. */
  flags: number;
  /** The 24 reserved bits after the flags. */
  reserved1: number;
  vni: number;
  /** The reserved byte after the VNI. */
  reserved2: number;
  payload: Uint8Array;
}

export type VxlanInput = Optional<VxlanPacket, 'flags' | 'reserved1' | 'reserved2'>;

export function decodeVxlan(buf: Uint8Array, offset = 0, end = buf.length): VxlanPacket {
  const r = new Reader(buf, offset, end);
  const flags = r.u8('vxlan.flags');
  const reserved1 = r.u24('vxlan.reserved1');
  const vni = r.u24('vxlan.vni');
  const reserved2 = r.u8('vxlan.reserved2');
  return { flags, reserved1, vni, reserved2, payload: r.rest() };
}

export function encodeVxlan(v: VxlanInput): Uint8Array {
  const w = new Writer(8 + v.payload.length);
  w.u8(v.flags ?? VXLAN_FLAG_I).u24(v.reserved1 ?? 0).u24(v.vni).u8(v.reserved2 ?? 0);
  w.bytes(v.payload);
  return w.finish();
}
