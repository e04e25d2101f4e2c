import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  bool,
  defaultsOf,
  formatIssue,
  formatPath,
  int,
  ipAddress,
  ipv4,
  ipv6,
  list,
  loadConfigFile,
  object,
  oneOf,
  optional,
  parseConfigText,
  prefix,
  record,
  refine,
  required,
  routeTarget,
  routerId,
  string,
  validateJson,
  validateYaml,
  withDefault,
} from '../../../src/config/index.js';
import type { Schema } from '../../../src/config/index.js';
import { rng } from '../../support/rng.js';

/** Every issue as the CLI prints it. */
function errors<T>(text: string, schema: Schema<T>, file = 't.yaml'): string[] {
  const r = validateYaml(text, schema, file);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.value)}`);
  return r.issues.map(formatIssue);
}

function value<T>(text: string, schema: Schema<T>): T {
  const r = validateYaml(text, schema, 't.yaml');
  if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'));
  return r.value;
}

const server = object({
  name: required(string({ minLength: 1 })),
  port: withDefault(int(1, 65535), 8080),
  debug: withDefault(bool(), false),
  mode: optional(oneOf(['fast', 'safe'] as const)),
  tags: withDefault(list(string(), { unique: (s) => s }), () => []),
  limits: defaultsOf(object({ 'max-conn': withDefault(int(1, 1000), 100), 'idle-time': optional(int(0, 3600)) })),
});

describe('scalar errors name file:line:col and the field path', () => {
  it('reports each wrong scalar where its value starts', () => {
    const text = ['name: 12', 'port: 70000', 'debug: yes', 'mode: quick', 'tags: [a, 7]', 'limits:', '  max-conn: "50"', ''].join('\n');
    expect(errors(text, server)).toEqual([
      't.yaml:1:7: name: must be a non-empty string',
      't.yaml:2:7: port: must be an integer 1..65535',
      // YAML 1.2: `yes` is a string, not a boolean.
      't.yaml:3:8: debug: must be true or false',
      't.yaml:4:7: mode: must be one of: fast, safe',
      't.yaml:5:11: tags[1]: must be a string',
      't.yaml:7:13: limits.max-conn: must be an integer 1..1000',
    ]);
  });

  it('rejects non-integers, floats and out-of-range numbers for int', () => {
    const s = object({ a: required(int(0, 10)) });
    expect(errors('a: 2.5', s)).toEqual(['t.yaml:1:4: a: must be an integer 0..10']);
    expect(errors('a: -1', s)).toEqual(['t.yaml:1:4: a: must be an integer 0..10']);
    expect(errors('a: .inf', s)).toEqual(['t.yaml:1:4: a: must be an integer 0..10']);
    expect(errors('a: true', s)).toEqual(['t.yaml:1:4: a: must be an integer 0..10']);
    expect(value('a: 0x0a', s)).toEqual({ a: 10 });
  });

  it('an empty value points at its key', () => {
    expect(errors('name:\nport: 1\n', server)).toEqual(['t.yaml:1:1: name: must be a non-empty string']);
  });

  it('an empty string is caught by minLength', () => {
    expect(errors('name: ""', server)).toEqual(['t.yaml:1:7: name: must not be empty']);
  });
});

describe('mappings', () => {
  it('fills defaults, including nested sections that are absent, and omits unset optionals', () => {
    expect(value('name: x', server)).toEqual({ name: 'x', port: 8080, debug: false, tags: [], limits: { maxConn: 100 } });
    const v = value('name: x\nlimits: {idle-time: 5}\nmode: safe', server);
    expect(v.limits).toEqual({ maxConn: 100, idleTime: 5 });
    expect(v.mode).toBe('safe');
    expect(Object.keys(value('name: x', server))).not.toContain('mode');
  });

  it('default lists are fresh copies', () => {
    const a = value('name: a', server);
    a.tags.push('mutated');
    expect(value('name: b', server).tags).toEqual([]);
  });

  it('reports a missing required key at the mapping that lacks it', () => {
    expect(errors('port: 1', server)).toEqual(['t.yaml:1:1: name: is required']);
    const nested = object({ outer: required(object({ inner: required(int(1, 2)) })) });
    expect(errors('outer:\n  other: 1\n', nested)).toEqual([
      "t.yaml:2:3: outer.other: unknown key; expected inner",
      't.yaml:2:3: outer.inner: is required',
    ]);
  });

  it('rejects unknown keys at the key, suggesting the likely one', () => {
    expect(errors('name: x\nprot: 1\nmax_conn: 3\ncolour: red\n', server)).toEqual([
      "t.yaml:2:1: prot: unknown key (did you mean 'port'?)",
      "t.yaml:3:1: max_conn: unknown key; expected name, port, debug, mode, tags, limits",
      't.yaml:4:1: colour: unknown key; expected name, port, debug, mode, tags, limits',
    ]);
    expect(errors('name: x\nlimits: {max_conn: 3}\n', server)).toEqual(["t.yaml:2:10: limits.max_conn: unknown key (did you mean 'max-conn'?)"]);
  });

  it('a mapping where a scalar or list is', () => {
    expect(errors('- a', server)).toEqual(['t.yaml:1:1: must be a mapping']);
    expect(errors('', server)).toEqual(['t.yaml:1:1: must be a mapping']);
    expect(errors('name: x\nlimits: 5', server)).toEqual(['t.yaml:2:9: limits: must be a mapping']);
  });

  it('records take user keys, checked by the key schema, and cannot reach a prototype', () => {
    const s = record(int(0, 9), { key: oneOf(['a', 'b', '__proto__'] as const) });
    expect(value('a: 1\nb: 2', s)).toEqual({ a: 1, b: 2 });
    expect(errors('a: 1\nc: 2\nb: x', s)).toEqual(['t.yaml:2:1: c: must be one of: a, b, __proto__', 't.yaml:3:4: b: must be an integer 0..9']);
    const v = value('__proto__: 3', s);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['a']).toBeUndefined();
  });
});

describe('lists', () => {
  const s = object({ xs: required(list(int(0, 9), { min: 1, unique: (n) => String(n) })) });

  it('checks the kind, each item, duplicates and the minimum length', () => {
    expect(errors('xs: 3', s)).toEqual(['t.yaml:1:5: xs: must be a list']);
    expect(errors('xs: []', s)).toEqual(['t.yaml:1:5: xs: must not be empty']);
    expect(errors('xs:\n  - 1\n  - 2\n  - 1\n  - 10\n', s)).toEqual([
      't.yaml:4:5: xs[2]: duplicate of xs[0]',
      't.yaml:5:5: xs[3]: must be an integer 0..9',
    ]);
  });
});

describe('checks across fields', () => {
  const range = refine(object({ lo: required(int(0, 100)), hi: required(int(0, 100)), note: optional(string()) }), (v, r) => {
    if (v.lo > v.hi) r.report(['hi'], `must be at least lo (${v.lo})`);
    if (v.note === undefined && v.hi === 100) r.report(['note'], 'is required when hi is 100');
  });

  it('report at the related field, or the nearest node present when it is absent', () => {
    expect(errors('lo: 5\nhi: 4', range)).toEqual(['t.yaml:2:5: hi: must be at least lo (5)']);
    expect(errors('r:\n  lo: 5\n  hi: 100', object({ r: required(range) }))).toEqual(['t.yaml:2:3: r.note: is required when hi is 100']);
  });

  it('do not run on a value that is itself invalid (no errors about garbage)', () => {
    expect(errors('lo: x\nhi: 4', range)).toEqual(['t.yaml:1:5: lo: must be an integer 0..100']);
  });
});

describe('YAML problems are config errors with positions', () => {
  it('syntax errors', () => {
    const e = errors('a: [1, 2\nb: 3\n', server);
    expect(e.length).toBeGreaterThan(0);
    expect(e[0]).toMatch(/^t\.yaml:\d+:\d+: /);
  });

  it('duplicate keys', () => {
    expect(errors('name: a\nport: 1\nname: b\n', server)).toEqual(['t.yaml:3:1: Map keys must be unique']);
  });

  it('several documents', () => {
    expect(errors('name: a\n---\nname: b\n', server)).toEqual(['t.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()']);
  });

  it('unknown tags', () => {
    expect(errors('name: !secret abc\n', server)[0]).toMatch(/^t\.yaml:1:7: .*!secret/);
  });

  it('aliases expand; a billion laughs is refused, not expanded', () => {
    expect(value('name: &n web\ntags: [*n]', server).tags).toEqual(['web']);
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const t0 = Date.now();
    const e = errors(lines.join('\n'), record(list(string())));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/too large or too deeply nested/);
  });

  it('any text gives a value or issues, never an exception', () => {
    const rnd = rng(12345);
    const alphabet = ['name', 'port', ':', ' ', '\n', '  ', '- ', '[', ']', '{', '}', ',', '"', "'", '&a', '*a', '!', '#', '1', 'x', '\t', '---', '?', '|', '>'];
    for (let i = 0; i < 3000; i++) {
      let t = '';
      const n = Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) t += alphabet[Math.floor(rnd() * alphabet.length)];
      const r = validateYaml(t, server, 'f.yaml');
      if (!r.ok) for (const issue of r.issues) expect(issue.source).toBe('f.yaml');
    }
  });
});

describe('JSON input (REST bodies) names JSON paths, without positions', () => {
  it('reports the same messages with paths only', () => {
    const r = validateJson({ name: 'x', port: '80', limits: { 'max-conn': 0 }, extra: 1 }, server);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map(formatIssue)).toEqual([
      "extra: unknown key; expected name, port, debug, mode, tags, limits",
      'port: must be an integer 1..65535',
      'limits.max-conn: must be an integer 1..1000',
    ]);
    expect(r.issues[0]).toEqual({ path: 'extra', message: "unknown key; expected name, port, debug, mode, tags, limits" });
  });

  it('values JSON cannot carry read as null and are rejected', () => {
    const r = validateJson({ name: undefined }, server);
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual(['name: must be a non-empty string']);
    expect(validateJson({ name: 'ok' }, server)).toEqual({ ok: true, value: { name: 'ok', port: 8080, debug: false, tags: [], limits: { maxConn: 100 } } });
  });
});

describe('network values', () => {
  const s = object({
    v4: optional(ipv4()),
    v6: optional(ipv6()),
    ip: optional(ipAddress()),
    id: optional(routerId()),
    p: optional(prefix()),
    p4: optional(prefix('ipv4')),
    rt: optional(list(routeTarget())),
  });

  it('normalise addresses (RFC 5952), prefixes and route targets', () => {
    expect(value('v6: 2001:DB8:0:0:0:0:0:1\nip: "::FFFF:10.0.0.1"\np: 2001:db8:0::/48\nrt: [target:64512:100, 10.0.0.1:5, target:4200000000:7, 64512L:5]', s)).toEqual({
      v6: '2001:db8::1',
      ip: '::ffff:10.0.0.1',
      p: '2001:db8::/48',
      rt: ['target:64512:100', 'target:10.0.0.1:5', 'target:4200000000:7', 'target:64512L:5'],
    });
  });

  it('reject malformed values with the expectation', () => {
    expect(errors('v4: 10.0.0.256\nv6: 10.0.0.1\nip: 010.0.0.1\nid: 0.0.0.0\np: 10.0.0.0/33\np4: ::/0\nrt: [target:70000:70000, "1:2:3", 5]', s)).toEqual([
      't.yaml:1:5: v4: must be an IPv4 address',
      't.yaml:2:5: v6: must be an IPv6 address',
      't.yaml:3:5: ip: must be an IPv4 or IPv6 address',
      't.yaml:4:5: id: must be a non-zero IPv4 address',
      't.yaml:5:4: p: must be an IP prefix (address/length)',
      't.yaml:6:5: p4: must be an IPv4 prefix (address/length)',
      't.yaml:7:6: rt[0]: must be a route target like target:64512:100',
      't.yaml:7:26: rt[1]: must be a route target like target:64512:100',
      't.yaml:7:35: rt[2]: must be a route target like target:64512:100',
    ]);
  });

  it('a prefix with host bits set says which prefix was probably meant', () => {
    expect(errors('p: 10.1.2.3/16', s)).toEqual(['t.yaml:1:4: p: host bits set past /16 (did you mean 10.1.0.0/16?)']);
    expect(errors('p: 2001:db8::1/64', s)).toEqual(['t.yaml:1:4: p: host bits set past /64 (did you mean 2001:db8::/64?)']);
  });
});

describe('loaders never half-apply', () => {
  it('loadConfigFile throws one ConfigError listing every issue, and returns the value when valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-config-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: ok\nport: 0\ntags: [a, a]\n');
    const err = await loadConfigFile(bad, server).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`${bad}:2:7: port: must be an integer 1..65535\n${bad}:3:11: tags[1]: duplicate of tags[0]`);
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'name: ok\n');
    await expect(loadConfigFile(good, server)).resolves.toEqual({ name: 'ok', port: 8080, debug: false, tags: [], limits: { maxConn: 100 } });
  });

  it('a file that cannot be read or decoded is one issue naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-config-'));
    await expect(loadConfigFile(join(dir, 'missing.yaml'), server)).rejects.toThrow(/missing\.yaml: cannot read: ENOENT/);
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]));
    await expect(loadConfigFile(latin1, server)).rejects.toThrow(`${latin1}: not valid UTF-8`);
  });

  it('parseConfigText throws rather than returning a partial value', () => {
    expect(() => parseConfigText('name: a\nport: x', server, 'p.yaml')).toThrow('p.yaml:2:7: port: must be an integer 1..65535');
  });
});

describe('formatPath', () => {
  it('writes keys dotted, indexes in brackets and quotes odd keys', () => {
    expect(formatPath(['neighbors', 1, 'remote-as'])).toBe('neighbors[1].remote-as');
    expect(formatPath(['policies', 'a.b', 'import'])).toBe('policies["a.b"].import');
    expect(formatPath([0, 'x'])).toBe('[0].x');
    expect(formatPath([])).toBe('');
  });
});
