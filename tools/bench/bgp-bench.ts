/**
 * `npm run bench:bgp`: weft, BIRD and gobgpd through the shared route-reflection harness
 * (shared/bench/bgp_reflect_bench.py, with --withdraw), one SUT after the other at each route
 * count, so that the figures compared come from the same stretch of a shared machine. Prints
 * one table and the ratios weft/BIRD and weft/gobgpd. Needs `npm run build` (the SUT script
 * starts dist/src/bgp/main-speaker.js).
 *
 *   node dist/tools/bench/bgp-bench.js [--sizes 100000,1000000] [--runs 1] [--skip-gobgp]
 *     [--gobgp-max N] [--skip-bird] [--harness PATH] [--node-options "..."] [--jsonl FILE]
 *     [-- extra harness options]
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figuresOf, formatReport, type BenchFigures } from './bgp-bench-report.js';

/** dist/tools/bench -> the repository. */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Options {
  sizes: number[];
  runs: number;
  suts: string[];
  gobgpMax: number;
  harness: string;
  nodeOptions: string | undefined;
  jsonl: string | undefined;
  extra: string[];
}

const USAGE = `usage: bgp-bench [--sizes 100000,1000000] [--runs K] [--skip-gobgp] [--gobgp-max N] [--skip-bird]
                 [--harness PATH] [--node-options "--max-semi-space-size=.."] [--jsonl FILE] [-- harness options]`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [100_000, 1_000_000],
    runs: 1,
    suts: ['weft', 'bird', 'gobgp'],
    gobgpMax: Infinity,
    harness: process.env.WEFT_BENCH_HARNESS ?? path.resolve(REPO, '../shared/bench/bgp_reflect_bench.py'),
    nodeOptions: undefined,
    jsonl: undefined,
    extra: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const count = (v: string): number => {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a}: not a positive integer: ${v}`);
      return n;
    };
    switch (a) {
      case '--sizes':
        o.sizes = value().split(',').map(count);
        break;
      case '--runs':
        o.runs = count(value());
        break;
      case '--skip-gobgp':
        o.suts = o.suts.filter((s) => s !== 'gobgp');
        break;
      case '--skip-bird':
        o.suts = o.suts.filter((s) => s !== 'bird');
        break;
      case '--gobgp-max':
        o.gobgpMax = count(value());
        break;
      case '--harness':
        o.harness = path.resolve(value());
        break;
      case '--node-options':
        o.nodeOptions = value();
        break;
      case '--jsonl':
        o.jsonl = path.resolve(value());
        break;
      case '--':
        o.extra = argv.slice(i + 1);
        i = argv.length;
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  return o;
}

function sutArg(sut: string): string {
  return sut === 'weft' ? `cmd:exec ${path.join(REPO, 'tools/bench/bgp-rr-sut.sh')}` : sut;
}

/** Runs the harness once; its progress lines go to stderr, its last stdout line is the JSON. */
function runHarness(o: Options, sut: string, n: number): Promise<Record<string, unknown>> {
  const args = [o.harness, '--sut', sutArg(sut), '-n', String(n), '--withdraw', '--runs', String(o.runs), ...o.extra];
  const env = { ...process.env };
  if (sut === 'weft' && o.nodeOptions !== undefined) env.WEFT_NODE_OPTIONS = o.nodeOptions;
  return new Promise((resolve) => {
    const child = spawn('python3', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('{')) last = l;
        else if (l.length > 0) process.stderr.write(`  ${l}\n`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.on('close', (code) => {
      if (partial.startsWith('{')) last = partial;
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        resolve({ n, error: `harness exited with ${code} and no JSON line` });
      }
    });
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const results: BenchFigures[] = [];
  for (const n of o.sizes) {
    for (const sut of o.suts) {
      if (sut === 'gobgp' && n > o.gobgpMax) continue;
      process.stderr.write(`[bgp-bench] ${sut}, ${n} routes, ${o.runs} run(s)\n`);
      const line = await runHarness(o, sut, n);
      if (o.jsonl !== undefined) appendFileSync(o.jsonl, `${JSON.stringify({ bench_sut: sut, ...line })}\n`);
      const f = figuresOf(sut, line);
      if (f.n === 0) f.n = n;
      results.push(f);
    }
  }
  process.stdout.write(`${formatReport(results)}\n`);
  if (results.some((r) => r.error !== undefined)) process.exitCode = 2;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(64);
});
