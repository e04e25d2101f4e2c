/**
 * `npm run bench:codec`: how fast weft's BGP codec decodes and encodes VPNv4 UPDATEs on one
 * core, and, on the same capture in the same run, how fast tshark and weft's whole-file
 * `decode` engine get through it.
 *
 *   node dist/tools/bench/codec-bench.js [--prefixes N] [--runs K] [--no-tshark] [--keep]
 *
 * The codec figures time decodeBgpMessage (lenient, as the session uses it, and strict, as
 * tools do) and encodeBgpMessage over every UPDATE of the feeder's TCP stream, K passes after a
 * warm-up pass; the median pass is reported (the machine is shared, the best pass too). CPU
 * time comes from process.cpuUsage (it includes the GC's helper threads, hence can exceed
 * wall time). Every pass checks its prefix count, and encode checks its bytes against the
 * stream, so a fast wrong answer cannot pass. Goal: >= 2,000,000 prefixes/s decode.
 *
 * tshark runs `-r file -T fields -e bgp.mp_reach_nlri_ipv4_prefix` (one process, its CPU from
 * the shell's `times`); its start-up on a 1-packet capture is measured too and reported
 * separately so the per-prefix rate can be read both ways. The last stdout line is one JSON
 * object with every figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeBgpMessage, encodeBgpMessage, type BgpMessage } from '../../codecs/bgp/index.js';
import { LINKTYPE_ETHERNET, readCapture, writePcap } from '../../codecs/pcap/index.js';
import { decodeCapture } from '../../src/decode/index.js';
import { BENCH_OPTIONS, buildBenchCapture, type BenchCapture } from './vpnv4-capture.js';

interface Args {
  prefixes: number;
  runs: number;
  tshark: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { prefixes: 1_000_000, runs: 5, tshark: true, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} needs a positive integer`);
      return v;
    };
    if (k === '--prefixes') a.prefixes = num();
    else if (k === '--runs') a.runs = num();
    else if (k === '--no-tshark') a.tshark = false;
    else if (k === '--keep') a.keep = true;
    else throw new Error(`unknown argument ${k} (--prefixes N, --runs K, --no-tshark, --keep)`);
  }
  return a;
}

interface Pass {
  wallS: number;
  cpuS: number;
}

interface Rate {
  passes: number;
  /** Median pass. */
  wallS: number;
  cpuS: number;
  bestWallS: number;
  prefixesPerS: number;
  prefixesPerCpuS: number;
  bestPrefixesPerS: number;
  mbPerS: number;
}

function timed(f: () => void): Pass {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wallS: wall, cpuS: (c.user + c.system) / 1e6 };
}

function measure(runs: number, prefixes: number, bytes: number, pass: () => void): Rate {
  // Warm-up (JIT tiers, inline caches) on at least a million prefixes whatever the size.
  for (let done = 0; done === 0 || done * prefixes < 1_000_000; done++) pass();
  const passes: Pass[] = [];
  for (let i = 0; i < runs; i++) passes.push(timed(pass));
  const byWall = [...passes].sort((x, y) => x.wallS - y.wallS);
  const med = byWall[Math.floor((byWall.length - 1) / 2)]!;
  const best = byWall[0]!;
  return {
    passes: runs,
    wallS: med.wallS,
    cpuS: med.cpuS,
    bestWallS: best.wallS,
    prefixesPerS: prefixes / med.wallS,
    prefixesPerCpuS: prefixes / med.cpuS,
    bestPrefixesPerS: prefixes / best.wallS,
    mbPerS: bytes / 1e6 / med.wallS,
  };
}

function countPrefixes(m: BgpMessage): number {
  if (m.type !== 'update') return 0;
  let n = 0;
  for (const a of m.attributes) if (a.kind === 'mp-reach') n += a.nlri.length;
  return n;
}

function codecRates(c: BenchCapture, runs: number): { lenient: Rate; strict: Rate; encode: Rate; lenientRetained: Rate } {
  const { stream, updateOffsets, prefixes, updateBytes } = c;
  const n = updateOffsets.length;
  const decodePass = (mode: 'strict' | 'lenient') => () => {
    let got = 0;
    for (let i = 0; i < n; i++) got += countPrefixes(decodeBgpMessage(stream, updateOffsets[i]!, BENCH_OPTIONS, { mode }));
    if (got !== prefixes) throw new Error(`${mode} decode found ${got} prefixes, expected ${prefixes}`);
  };
  const lenient = measure(runs, prefixes, updateBytes, decodePass('lenient'));
  const strict = measure(runs, prefixes, updateBytes, decodePass('strict'));

  const decoded = updateOffsets.map((o) => decodeBgpMessage(stream, o, BENCH_OPTIONS));
  // Re-encoding must give back the stream byte for byte, or the encode rate means nothing.
  for (let i = 0; i < n; i++) {
    const b = encodeBgpMessage(decoded[i]!, BENCH_OPTIONS);
    const o = updateOffsets[i]!;
    if (!Buffer.from(b).equals(stream.subarray(o, o + b.length))) throw new Error(`UPDATE ${i} does not re-encode to its bytes`);
  }
  let sink = 0;
  const encode = measure(runs, prefixes, updateBytes, () => {
    for (let i = 0; i < n; i++) sink += encodeBgpMessage(decoded[i]!, BENCH_OPTIONS).length;
  });
  if (sink % updateBytes !== 0 || sink < updateBytes * (runs + 1)) throw new Error(`encode wrote ${sink} bytes, not a multiple of ${updateBytes}`);
  // Again, now that every route is held as a decoded value (as a RIB holds them): V8 then
  // allocates the decoder's objects in the old generation (allocation-site pretenuring), and
  // young-generation GCs get slower. The first figure is the codec, this one its use in a
  // process with a large table.
  const lenientRetained = measure(runs, prefixes, updateBytes, decodePass('lenient'));
  if (decoded.length !== n) throw new Error('decoded table lost');
  return { lenient, strict, encode, lenientRetained };
}

interface EngineFigures {
  wallS: number;
  cpuS: number;
  prefixesPerS: number;
  packets: number;
  updates: number;
}

/** `weft decode` minus the printing: read the file, dissect every packet, reassemble, decode BGP. */
function engineRate(file: string, prefixes: number): EngineFigures {
  let packets = 0;
  let updates = 0;
  let found = 0;
  const run = () => {
    const out = decodeCapture(readCapture(new Uint8Array(readFileSync(file))));
    packets = out.length;
    updates = 0;
    found = 0;
    for (const p of out) {
      for (const l of p.layers) {
        if (l.layer !== 'bgp' || !Array.isArray(l['messages'])) continue;
        for (const m of l['messages'] as { type: string; message?: Omit<BgpMessage, 'type'> }[]) {
          if (m.type !== 'update' || !m.message) continue;
          updates++;
          found += countPrefixes({ type: 'update', ...m.message } as BgpMessage);
        }
      }
    }
  };
  run(); // warm-up
  const t = timed(run);
  if (found !== prefixes) throw new Error(`decode engine found ${found} prefixes, expected ${prefixes}`);
  return { wallS: t.wallS, cpuS: t.cpuS, prefixesPerS: prefixes / t.wallS, packets, updates };
}

interface TsharkFigures {
  version: string;
  wallS: number;
  cpuS: number;
  startupWallS: number;
  startupCpuS: number;
  prefixesPerS: number;
  /** Rate with the start-up time taken off. */
  prefixesPerSNet: number;
}

/** Runs tshark under sh so that `times` reports the child's CPU; returns wall, cpu and stdout. */
function runTshark(file: string, outFile: string): { wallS: number; cpuS: number; out: string } {
  const script = 'tshark -r "$1" -T fields -e bgp.mp_reach_nlri_ipv4_prefix > "$2" || exit 3; times';
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', script, 'sh', file, outFile], { encoding: 'utf8' });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`tshark failed (${r.status}): ${r.stderr}`);
  // `times`: shell user/sys, then children user/sys, e.g. "0m1.234s 0m0.056s".
  const lines = r.stdout.trim().split('\n');
  const secs = (s: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(s);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  };
  const [u, s] = (lines[lines.length - 1] ?? '').trim().split(/\s+/);
  return { wallS, cpuS: secs(u ?? '') + secs(s ?? ''), out: readFileSync(outFile, 'utf8') };
}

function tsharkRate(dir: string, file: string, c: BenchCapture): TsharkFigures {
  const v = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error('tshark not found (use --no-tshark to skip the comparison)');
  const version = /TShark \(Wireshark\) ([^\s]+)/.exec(v.stdout)?.[1] ?? 'unknown';
  const outFile = path.join(dir, 'tshark.out');
  // Start-up cost: the same command on a capture holding only the first packet.
  const tiny = path.join(dir, 'one-packet.pcap');
  const first = readCapture(c.pcap).packets[0]!;
  writeFileSync(tiny, writePcap([{ ts: first.ts, data: first.data }], LINKTYPE_ETHERNET));
  runTshark(tiny, outFile); // warm the page cache and tshark's own plugin cache
  // Start-up varies by a few hundred ms on a shared machine: keep the quickest of three.
  const startup = [runTshark(tiny, outFile), runTshark(tiny, outFile), runTshark(tiny, outFile)].sort((x, y) => x.wallS - y.wallS)[0]!;
  const full = runTshark(file, outFile);
  let found = 0;
  for (const line of full.out.split('\n')) if (line) found += line.split(',').length;
  if (found !== c.prefixes) throw new Error(`tshark printed ${found} prefixes, expected ${c.prefixes}`);
  return {
    version,
    wallS: full.wallS,
    cpuS: full.cpuS,
    startupWallS: startup.wallS,
    startupCpuS: startup.cpuS,
    prefixesPerS: c.prefixes / full.wallS,
    prefixesPerSNet: c.prefixes / Math.max(1e-6, full.wallS - startup.wallS),
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-codec-bench-'));
  try {
    const c = buildBenchCapture(args.prefixes);
    const file = path.join(dir, 'vpnv4-updates.pcap');
    writeFileSync(file, c.pcap);
    const n = c.updateOffsets.length;
    process.stdout.write(`[bench] ${fmt(c.prefixes)} VPNv4 /24 prefixes in ${fmt(n)} UPDATEs (${fmt(c.updateBytes)} bytes), ${file} (${fmt(c.pcap.length)} bytes)\n`);

    const codec = codecRates(c, args.runs);
    const engine = engineRate(file, c.prefixes);
    const tshark = args.tshark ? tsharkRate(dir, file, c) : undefined;

    const rows: [string, number, number, number, number][] = [
      ['weft decode lenient (codec)', codec.lenient.wallS, codec.lenient.cpuS, codec.lenient.prefixesPerS, codec.lenient.mbPerS],
      ['weft decode strict (codec)', codec.strict.wallS, codec.strict.cpuS, codec.strict.prefixesPerS, codec.strict.mbPerS],
      ['weft encode (codec)', codec.encode.wallS, codec.encode.cpuS, codec.encode.prefixesPerS, codec.encode.mbPerS],
      ['weft decode lenient, table retained', codec.lenientRetained.wallS, codec.lenientRetained.cpuS, codec.lenientRetained.prefixesPerS, codec.lenientRetained.mbPerS],
      ['weft decode engine (whole file)', engine.wallS, engine.cpuS, engine.prefixesPerS, c.pcap.length / 1e6 / engine.wallS],
    ];
    if (tshark) rows.push([`tshark ${tshark.version} -T fields`, tshark.wallS, tshark.cpuS, tshark.prefixesPerS, c.pcap.length / 1e6 / tshark.wallS]);
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`${'what'.padEnd(w)}  ${'wall s'.padStart(8)}  ${'cpu s'.padStart(8)}  ${'prefixes/s'.padStart(12)}  ${'MB/s'.padStart(8)}\n`);
    for (const [name, wall, cpu, pps, mbs] of rows) {
      process.stdout.write(`${name.padEnd(w)}  ${fmt(wall, 3).padStart(8)}  ${fmt(cpu, 3).padStart(8)}  ${fmt(pps).padStart(12)}  ${fmt(mbs, 1).padStart(8)}\n`);
    }
    if (tshark) {
      process.stdout.write(`tshark start-up ${fmt(tshark.startupWallS, 3)} s; without it ${fmt(tshark.prefixesPerSNet)} prefixes/s\n`);
      process.stdout.write(`weft/tshark: codec ${fmt(codec.lenient.prefixesPerS / tshark.prefixesPerS, 1)}x, engine ${fmt(engine.prefixesPerS / tshark.prefixesPerS, 1)}x\n`);
    }
    const goal = 2_000_000;
    // On a shared machine wall time also measures the neighbours; CPU time is the one-core figure.
    const goalWall = codec.lenient.prefixesPerS >= goal;
    const goalCpu = codec.lenient.prefixesPerCpuS >= goal;
    process.stdout.write(
      `goal ${fmt(goal)} prefixes/s decode on one core: wall ${goalWall ? 'met' : 'NOT met'} (${fmt(codec.lenient.prefixesPerS)}), ` +
        `CPU time ${goalCpu ? 'met' : 'NOT met'} (${fmt(codec.lenient.prefixesPerCpuS)})\n`,
    );
    const json = {
      bench: 'codec',
      node: process.version,
      prefixes: c.prefixes,
      updates: n,
      updateBytes: c.updateBytes,
      pcapBytes: c.pcap.length,
      runs: args.runs,
      decodeLenient: codec.lenient,
      decodeStrict: codec.strict,
      encode: codec.encode,
      decodeLenientTableRetained: codec.lenientRetained,
      engine,
      tshark: tshark ?? null,
      ratio: tshark
        ? {
            codecLenientOverTshark: codec.lenient.prefixesPerS / tshark.prefixesPerS,
            codecLenientOverTsharkNet: codec.lenient.prefixesPerS / tshark.prefixesPerSNet,
            engineOverTshark: engine.prefixesPerS / tshark.prefixesPerS,
          }
        : null,
      goalPrefixesPerS: goal,
      goalMetWall: goalWall,
      goalMetCpu: goalCpu,
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } finally {
    if (args.keep) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main();
