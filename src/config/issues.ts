/**
 * What validation reports. Every problem is collected (never just the first), so an operator
 * fixes a config in one pass; each names where it is (file:line:col for YAML, nothing for JSON
 * bodies, whose path says it all) and the field path in the form people type in queries.
 */

/** 1-based, as editors and compilers count. */
export interface Pos {
  line: number;
  col: number;
}

/** A key of a mapping or an index into a list. */
export type PathSeg = string | number;

export interface ConfigIssue {
  /** File name as the user gave it; absent for input that is not a file (a REST body). */
  source?: string;
  line?: number;
  col?: number;
  /** 'neighbors[1].remote-as'; '' for the document itself. */
  path: string;
  message: string;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** neighbors[1].remote-as; keys that would read ambiguously are quoted: policies["a.b"]. */
export function formatPath(path: readonly PathSeg[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) s += s.length === 0 ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

/** `rr.yaml:12:5: neighbors[1].remote-as: must be an integer 1..4294967295` */
export function formatIssue(i: ConfigIssue): string {
  let where = '';
  if (i.source !== undefined) {
    where = i.source;
    if (i.line !== undefined) where += `:${i.line}:${i.col ?? 1}`;
    where += ': ';
  }
  return `${where}${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** Issues in reading order: by line and column, then as found. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, n) => ({ issue, n }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.col ?? 0) - (b.issue.col ?? 0) || a.n - b.n)
    .map((x) => x.issue);
}

/** Thrown by the loaders when a config is not valid; carries every issue, one per message line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
