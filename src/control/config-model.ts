/**
 * The configuration model as the control node holds it: loaded from YAML, changed through the
 * REST API one object at a time. A change is validated on a copy of the whole model (the
 * object alone first, so errors name the body's JSON path, then every cross reference) and
 * only a fully valid model replaces the current one: nothing is ever half-applied.
 */
import { controlModelSchema, OBJECT_SCHEMAS, OBJECT_TYPES, AUTO_RT_BASE } from '../config/control-model.js';
import type { ControlModel, ObjectType, VirtualNetworkConfig } from '../config/control-model.js';
import type { ConfigIssue } from '../config/issues.js';
import { loadConfigFile, parseConfigText, validateJson } from '../config/load.js';

export type { ControlModel, ObjectType, VirtualNetworkConfig } from '../config/control-model.js';
export { OBJECT_TYPES } from '../config/control-model.js';

export function loadControlModel(file: string): Promise<ControlModel> {
  return loadConfigFile(file, controlModelSchema);
}

export function parseControlModel(text: string, source?: string): ControlModel {
  return parseConfigText(text, controlModelSchema, source);
}

export function isObjectType(s: string): s is ObjectType {
  return (OBJECT_TYPES as readonly string[]).includes(s);
}

/** `importRouteTargets` -> `import-route-targets`, `endpoint1` -> `endpoint-1` (no model key has a digit inside a word). */
function kebab(k: string): string {
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const c = k[i]!;
    if (c >= 'A' && c <= 'Z') out += `-${c.toLowerCase()}`;
    else if (c >= '0' && c <= '9' && i > 0 && !(k[i - 1]! >= '0' && k[i - 1]! <= '9')) out += `-${c}`;
    else out += c;
  }
  return out;
}

/** The model (or one object of it) in the document's kebab-case form: what GET returns and PUT takes. */
export function toDocument(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toDocument);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[kebab(k)] = toDocument(x);
    return out;
  }
  return v;
}

function camel(t: ObjectType): keyof ControlModel {
  return t.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ControlModel;
}

export function objectsOf(m: ControlModel, t: ObjectType): readonly { name: string }[] {
  return m[camel(t)] as unknown as { name: string }[];
}

export function findObject(m: ControlModel, t: ObjectType, name: string): { name: string } | undefined {
  return objectsOf(m, t).find((o) => o.name === name);
}

export type ModelChange =
  | { op: 'put'; type: ObjectType; name?: string; body: unknown }
  | { op: 'delete'; type: ObjectType; name: string };

export type ChangeResult =
  | { ok: true; model: ControlModel }
  | { ok: false; status: 400 | 404 | 409; error: string; issues?: ConfigIssue[] };

/**
 * The model after a change, or why not. `put` replaces the object named `name` (or the body's
 * name) or adds it; a body whose name differs from `name` is refused.
 */
export function changeModel(m: ControlModel, c: ModelChange): ChangeResult {
  const doc = toDocument(m) as Record<string, unknown[]>;
  const list = [...(doc[c.type] ?? [])] as { name: string }[];
  if (c.op === 'delete') {
    const i = list.findIndex((o) => o.name === c.name);
    if (i < 0) return { ok: false, status: 404, error: `no ${c.type} named '${c.name}'` };
    list.splice(i, 1);
  } else {
    const one = validateJson(c.body, OBJECT_SCHEMAS[c.type] as (typeof OBJECT_SCHEMAS)[ObjectType]);
    if (!one.ok) return { ok: false, status: 400, error: `invalid ${c.type} object`, issues: one.issues };
    const name = (one.value as { name: string }).name;
    if (c.name !== undefined && c.name !== name) {
      return { ok: false, status: 400, error: 'name mismatch', issues: [{ path: 'name', message: `must be '${c.name}' (the URL's name)` }] };
    }
    const body = c.body as { name: string };
    const i = list.findIndex((o) => o.name === name);
    if (c.type === 'virtual-networks' && i >= 0 && (body as { id?: unknown }).id === undefined) {
      // The index (RD, auto RT) of an existing network stays unless the body names another.
      (body as { id?: unknown }).id = (list[i] as { id?: unknown }).id;
    }
    if (i >= 0) list[i] = body;
    else list.push(body);
  }
  doc[c.type] = list;
  const all = validateJson(doc, controlModelSchema);
  if (!all.ok) return { ok: false, status: 400, error: `the change leaves the model inconsistent`, issues: all.issues };
  return { ok: true, model: all.value };
}

/* ---------- what the routing layer reads ---------- */

export function routingInstanceName(vnFqName: string): string {
  return `${vnFqName}:${vnFqName.slice(vnFqName.lastIndexOf(':') + 1)}`;
}

export function autoRouteTarget(asn: number, vnId: number): string {
  // 4-byte ASNs take the 4-byte-AS RT form, whose number has only 16 bits: Contrail then
  // cannot auto-allocate either; keep the 2-byte form's meaning for the usual private ASNs.
  return `target:${asn}:${AUTO_RT_BASE + vnId}`;
}

export function networkByName(m: ControlModel, name: string): VirtualNetworkConfig | undefined {
  return m.virtualNetworks.find((v) => v.name === name);
}
