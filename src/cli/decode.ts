import { readFile } from 'node:fs/promises';
import { readCapture } from '../../codecs/pcap/capture.js';
import { DecodeError } from '../../codecs/util/errors.js';
import { decodeCapture, packetToJson, packetToText, parseDecodeAs, type DecodeAsRule } from '../decode/index.js';
import { LineBuffer, parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';

export const DECODE_USAGE = `usage: weft decode <capture> [--json] [--decode-as tcp.port==N,bgp|xmpp] [--decode-as udp.port==N,mpls|vxlan|dhcp] ...

Dissect a pcap or pcapng file: link layer, IP, TCP/UDP, tunnels (GRE, MPLS, VXLAN,
MPLS-over-UDP), DHCP, and BGP and XMPP over reassembled TCP streams.

  --json               one JSON object per packet (schema: docs/decode-json.md)
  --decode-as RULE     bind a port to a decoder, as tshark's -d (repeatable)
                       defaults: tcp 179 bgp, tcp 5269 xmpp, udp 4789 vxlan,
                       udp 6635 and 51234 mpls, udp 67/68 dhcp

Exit status: 0 when the capture was read (malformed packets included), 1 when it could
not be read, 2 on bad usage.
`;

export async function decodeCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('decode', DECODE_USAGE, {
    args,
    options: {
      json: { type: 'boolean' },
      'decode-as': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (parsed.values.help) {
    io.stdout.write(DECODE_USAGE);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError('weft decode: no capture file given', DECODE_USAGE);
  if (extra.length) throw new UsageError(`weft decode: one capture file at a time (also got ${extra.join(' ')})`, DECODE_USAGE);
  let decodeAs: DecodeAsRule[];
  try {
    decodeAs = (parsed.values['decode-as'] ?? []).map(parseDecodeAs);
  } catch (e) {
    throw new UsageError(`weft decode: ${(e as Error).message}`, DECODE_USAGE);
  }

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`weft decode: cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    return 1;
  }
  let capture;
  try {
    capture = readCapture(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    io.stderr.write(`weft decode: ${file} is not a readable capture: ${e.reason} (${e.field} at offset ${e.offset})\n`);
    return 1;
  }
  for (const note of capture.notes) io.stderr.write(`weft decode: ${file}: ${note}\n`);

  const packets = decodeCapture(capture, { decodeAs });
  const out = new LineBuffer(io.stdout);
  const json = parsed.values.json === true;
  for (const p of packets) {
    if (json) out.write(`${packetToJson(p)}\n`);
    else out.write(`${packetToText(p)}\n`);
  }
  out.flush();
  return 0;
}
