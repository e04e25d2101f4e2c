/**
 * Just enough classic pcap for the net tests: read the records of a capture and write frames
 * for tshark to check. The real reader lives in codecs/pcap; this keeps the net tests
 * independent of it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PCAP_DIR = fileURLToPath(new URL('../../../../shared/conformance/pcaps/', import.meta.url));

export interface PcapRecord {
  /** The captured bytes. */
  data: Uint8Array;
  /** The frame's length on the wire (more than data.length when cut by snaplen). */
  origLen: number;
}

export interface PcapFile {
  linkType: number;
  records: PcapRecord[];
}

export function readPcap(name: string): PcapFile {
  const b = readFileSync(PCAP_DIR + name);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0, true);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${name}: not a classic pcap (magic 0x${magic.toString(16)})`);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let p = 24;
  while (p + 16 <= b.length) {
    const capLen = dv.getUint32(p + 8, le);
    const origLen = dv.getUint32(p + 12, le);
    p += 16;
    if (p + capLen > b.length) throw new Error(`${name}: record at ${p - 16} runs past the file`);
    records.push({ data: new Uint8Array(b.buffer, b.byteOffset + p, capLen), origLen });
    p += capLen;
  }
  return { linkType, records };
}

/** Little-endian microsecond pcap, LINKTYPE_ETHERNET unless told otherwise. */
export function writePcap(path: string, frames: readonly Uint8Array[], linkType = 1): void {
  let size = 24;
  for (const f of frames) size += 16 + f.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, linkType, true);
  let p = 24;
  frames.forEach((f, i) => {
    dv.setUint32(p, 1_700_000_000 + i, true);
    dv.setUint32(p + 8, f.length, true);
    dv.setUint32(p + 12, f.length, true);
    out.set(f, p + 16);
    p += 16 + f.length;
  });
  writeFileSync(path, out);
}
