/**
 * Writes fixtures/captures/weft-encoded.pcap (or the path given) from buildSampleCapture().
 * Run from the repository root: `npm run sample-capture`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildSampleCapture } from './sample-capture.js';

const out = resolve(process.argv[2] ?? 'fixtures/captures/weft-encoded.pcap');
const { bytes, expected } = buildSampleCapture();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, bytes);
for (const f of expected) process.stdout.write(`${String(f.frame).padStart(3)}  ${f.what}\n`);
process.stdout.write(`wrote ${out}: ${expected.length} frames, ${bytes.length} bytes\n`);
