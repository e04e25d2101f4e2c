/**
 * The figures `npm run bench:bgp` takes from each JSON line of shared/bench/bgp_reflect_bench.py
 * and the table it prints. Pure, so the parsing is tested on the harness's recorded output.
 */

/** One harness invocation: one SUT at one route count (median over its runs). */
export interface BenchFigures {
  sut: string;
  n: number;
  runs: number;
  /** Announce: feeder's first send to the sink holding all N routes. */
  reflectS: number | undefined;
  routesPerS: number | undefined;
  withdrawS: number | undefined;
  peakRssMiB: number | undefined;
  cpuAnnounceS: number | undefined;
  cpuWithdrawS: number | undefined;
  nlriPerUpdate: number | undefined;
  error: string | undefined;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A figure of one run, or the median of the summary when the harness ran several. */
function figure(line: Json, phase: string | undefined, key: string): number | undefined {
  const summary = obj(line.summary);
  if (summary !== undefined) {
    const s = phase === undefined ? summary : obj(summary[phase]);
    return num(obj(s?.[key])?.median);
  }
  const p = phase === undefined ? line : obj(line[phase]);
  return num(p?.[key]);
}

/** The phase counts only when the sink saw every route. */
function complete(line: Json, phase: string): boolean {
  const summary = obj(line.summary);
  if (summary !== undefined) return num(obj(summary[phase])?.complete_runs) === (Array.isArray(line.runs) ? line.runs.length : 0);
  return obj(line[phase])?.complete === true;
}

/** Figures from the harness's last stdout line; `sut` names the row ('weft', 'bird', 'gobgp'). */
export function figuresOf(sut: string, line: Json): BenchFigures {
  const kb = figure(line, undefined, 'sut_peak_rss_kb');
  const announced = complete(line, 'announce');
  const withdrawn = complete(line, 'withdraw');
  const err = line.error;
  return {
    sut,
    n: num(line.n) ?? 0,
    runs: Array.isArray(line.runs) ? line.runs.length : 1,
    reflectS: announced ? figure(line, 'announce', 'reflect_s') : undefined,
    routesPerS: announced ? figure(line, 'announce', 'routes_per_s') : undefined,
    withdrawS: withdrawn ? figure(line, 'withdraw', 'reflect_s') : undefined,
    peakRssMiB: kb === undefined ? undefined : kb / 1024,
    cpuAnnounceS: figure(line, 'announce', 'sut_cpu_s'),
    cpuWithdrawS: figure(line, 'withdraw', 'sut_cpu_s'),
    nlriPerUpdate: Array.isArray(line.runs) ? num(obj(obj(line.runs[0])?.announce)?.nlri_per_update_received) : num(obj(line.announce)?.nlri_per_update_received),
    error: err === undefined ? undefined : typeof err === 'string' ? err : JSON.stringify(err),
  };
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined ? '-' : v.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;
}

function table(head: string[], rows: string[][]): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The results table, then per route count the ratios of weft to each other SUT (below 1 = weft better). */
export function formatReport(results: readonly BenchFigures[], base = 'weft'): string {
  const rows = results.map((r) => [
    r.sut,
    String(r.n),
    fmt(r.reflectS, 3),
    fmt(r.routesPerS, 0),
    fmt(r.withdrawS, 3),
    fmt(r.peakRssMiB, 0),
    fmt(r.cpuAnnounceS, 2),
    fmt(r.cpuWithdrawS, 2),
    fmt(r.nlriPerUpdate, 1),
    r.error ?? '',
  ]);
  const out = [table(['SUT', 'routes', 'reflect s', 'routes/s', 'withdraw s', 'peak RSS MiB', 'CPU ann s', 'CPU wd s', 'NLRI/UPD', 'error'], rows)];
  const ratioRows: string[][] = [];
  for (const w of results.filter((r) => r.sut === base)) {
    for (const o of results.filter((r) => r.n === w.n && r.sut !== base)) {
      ratioRows.push([
        `${base}/${o.sut}`,
        String(w.n),
        ratio(w.reflectS, o.reflectS),
        ratio(w.withdrawS, o.withdrawS),
        ratio(w.peakRssMiB, o.peakRssMiB),
        ratio(w.cpuAnnounceS, o.cpuAnnounceS),
        ratio(w.cpuWithdrawS, o.cpuWithdrawS),
      ]);
    }
  }
  if (ratioRows.length > 0) {
    out.push('', table(['ratio', 'routes', 'reflect', 'withdraw', 'peak RSS', 'CPU ann', 'CPU wd'], ratioRows));
  }
  return out.join('\n');
}
