import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { figuresOf, formatReport, type BenchFigures } from '../../../tools/bench/bgp-bench-report.js';
import { SHARED_DIR } from '../../support/paths.js';

/** The harness's own recorded results (shared/bench/README.md, table of 2026-11-25). */
const recorded = readFileSync(path.join(SHARED_DIR, 'bench', 'results', '2026-11-25-2core.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as Record<string, unknown>);

const matrix = (sut: string, n: number) => {
  const line = recorded.find((l) => l.sut === sut && l.n === n && l.label === 'matrix' && l.routes_per_rd === 1000 && l.label_mode === 'per-route');
  if (line === undefined) throw new Error(`no recorded ${sut} ${n}`);
  return line;
};

describe('bench:bgp report', () => {
  it('takes the medians of a 3-run harness line, as the README table shows them', () => {
    const bird = figuresOf('bird', matrix('bird', 1_000_000));
    expect(bird).toMatchObject({ sut: 'bird', n: 1_000_000, runs: 3, cpuAnnounceS: 7.81, nlriPerUpdate: 1, error: undefined });
    expect(bird.reflectS).toBeCloseTo(7.82, 2); // README: 7.82 (7.52-7.92)
    expect(bird.withdrawS).toBeCloseTo(1.13, 2);
    expect(Math.round(bird.peakRssMiB!)).toBe(469);
    const gobgp = figuresOf('gobgp', matrix('gobgp', 1_000_000));
    expect(gobgp.reflectS).toBeCloseTo(51.6, 1);
    expect(Math.round(gobgp.peakRssMiB!)).toBe(2569);
  });

  it('reads a single-run line and leaves out an incomplete phase', () => {
    const run = (matrix('bird', 100_000).runs as Record<string, unknown>[])[0]!;
    const one = { ...run, n: 100_000, announce: { ...(run.announce as object), complete: false } };
    const f = figuresOf('weft', one);
    expect(f.runs).toBe(1);
    expect(f.reflectS).toBeUndefined();
    expect(f.withdrawS).toBeCloseTo((run.withdraw as { reflect_s: number }).reflect_s, 6);
    expect(figuresOf('weft', { n: 10, error: 'SUT exited' }).error).toBe('SUT exited');
  });

  it('prints weft against each other SUT at the same size', () => {
    const base = { runs: 1, routesPerS: undefined, cpuWithdrawS: undefined, nlriPerUpdate: undefined, error: undefined };
    const rows: BenchFigures[] = [
      { ...base, sut: 'weft', n: 1000, reflectS: 2, withdrawS: 1, peakRssMiB: 300, cpuAnnounceS: 2 },
      { ...base, sut: 'bird', n: 1000, reflectS: 4, withdrawS: 0.5, peakRssMiB: 200, cpuAnnounceS: 4 },
    ];
    const text = formatReport(rows);
    const ratio = text.split('\n').find((l) => l.startsWith('weft/bird'))!;
    expect(ratio.trim().split(/\s+/)).toEqual(['weft/bird', '1000', '0.50x', '2.00x', '1.50x', '0.50x', '-']);
  });
});
