/**
 * The net tests' view of a classic pcap: the records of a shared capture, and frames written
 * for tshark to check. Both go through codecs/pcap.
 */
import { writeFileSync } from 'node:fs';
import { readCapture, writePcap as encodePcapFile } from '../../../codecs/pcap/index.js';
import { pcapBytes } from '../../support/paths.js';

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
  const c = readCapture(pcapBytes(name));
  if (c.format !== 'pcap') throw new Error(`${name}: not a classic pcap`);
  // A cut record would make the tests silently skip a frame.
  if (c.file.truncated) throw new Error(`${name}: ${c.notes.join('; ')}`);
  return { linkType: c.linkTypes[0]!, records: c.packets.map(({ data, origLen }) => ({ data, origLen })) };
}

/** Little-endian microsecond pcap, LINKTYPE_ETHERNET unless told otherwise. */
export function writePcap(path: string, frames: readonly Uint8Array[], linkType = 1): void {
  writeFileSync(path, encodePcapFile(frames.map((data, i) => ({ ts: { sec: 1_700_000_000 + i, nsec: 0 }, data })), linkType, { snapLen: 65535 }));
}
