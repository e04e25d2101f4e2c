/**
 * Entry points: a YAML file or text, or a JSON value (REST bodies). Each returns the whole
 * typed value or every issue, never a partly validated value.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, sortIssues } from './issues.js';
import type { ConfigIssue } from './issues.js';
import { jsonInput, parseYamlInput } from './input.js';
import { Context, INVALID } from './schema.js';
import type { Schema } from './schema.js';

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssue[] };

/** Config files are small; a cap keeps a wrong path (a disk image...) from being read whole. */
const MAX_FILE_BYTES = 16 << 20;

export function validateYaml<T>(text: string, schema: Schema<T>, source?: string): Validated<T> {
  const input = parseYamlInput(text, source);
  if (!input.root) return { ok: false, issues: sortIssues(input.issues) };
  return run(input.root, schema, new Context(input.issues, [], source));
}

/** A parsed JSON value (from JSON.parse): issues carry the JSON path and no position. */
export function validateJson<T>(value: unknown, schema: Schema<T>): Validated<T> {
  return run(jsonInput(value), schema, new Context([]));
}

function run<T>(root: Parameters<Schema<T>['parse']>[0], schema: Schema<T>, cx: Context): Validated<T> {
  const v = schema.parse(root, cx);
  if (v === INVALID || cx.issues.length > 0) {
    return { ok: false, issues: sortIssues(cx.issues.length > 0 ? cx.issues : [{ path: '', message: 'invalid' }]) };
  }
  return { ok: true, value: v };
}

/** Reads and validates a YAML file; throws ConfigError (every issue, `file:line:col: path: message`). */
export async function loadConfigFile<T>(file: string, schema: Schema<T>): Promise<T> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_FILE_BYTES) throw new ConfigError([{ source: file, path: '', message: `larger than ${MAX_FILE_BYTES} bytes` }]);
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const why = e instanceof TypeError ? 'not valid UTF-8' : `cannot read: ${(e as Error).message}`;
    throw new ConfigError([{ source: file, path: '', message: why }]);
  }
  return parseConfigText(text, schema, file);
}

/** validateYaml that throws ConfigError instead of returning issues. */
export function parseConfigText<T>(text: string, schema: Schema<T>, source?: string): T {
  const r = validateYaml(text, schema, source);
  if (!r.ok) throw new ConfigError(r.issues);
  return r.value;
}
