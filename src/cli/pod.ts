import { parseArgs } from 'node:util';
import type { CliIo } from './io.js';
import { UsageError } from './usage.js';

export const POD_USAGE = `usage: weft pod add <name> --network <instance> --ip <a.b.c.d/len> [--mac M] [--gateway G] [--mtu N]
       weft pod del <name>
       weft pod list

Creates (deletes) a pod through the agent's API: a network namespace <name> whose eth0 is a
TAP held by the agent, with address, MAC and default route via the subnet's .254; the agent
publishes its /32 to the control nodes. Run it where the agent's API is reachable.

  --agent URL     the agent API (default http://127.0.0.1:8085)
  --json          print the agent's JSON answer
`;

interface PodAnswer {
  name: string;
  ip: string;
  plen: number;
  mac: string;
  gateway: string;
  osName: string;
  vif: number;
  vrf: number;
  label: number;
  network: string;
}

export async function podCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        network: { type: 'string' },
        ip: { type: 'string' },
        mac: { type: 'string' },
        gateway: { type: 'string' },
        mtu: { type: 'string' },
        agent: { type: 'string', default: 'http://127.0.0.1:8085' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`weft pod: ${(e as Error).message}`, POD_USAGE);
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(POD_USAGE);
    return 0;
  }
  const [verb, name, ...extra] = parsed.positionals;
  const base = v.agent!.replace(/\/+$/, '');
  const line = (p: PodAnswer) =>
    `${p.name}: ${p.ip}/${p.plen} mac ${p.mac} gw ${p.gateway} vif0/${p.vif} ${p.osName} vrf ${p.vrf} label ${p.label} ${p.network}\n`;
  if (verb === 'list' && name === undefined) {
    const r = await call(`${base}/pods`, 'GET');
    if (r.status !== 200) return fail(io, r.body);
    io.stdout.write(v.json ? `${JSON.stringify(r.body, null, 2)}\n` : (r.body as PodAnswer[]).map(line).join(''));
    return 0;
  }
  if (name === undefined || extra.length > 0 || (verb !== 'add' && verb !== 'del')) throw new UsageError('weft pod: add <name> ... | del <name> | list', POD_USAGE);
  if (verb === 'del') {
    const r = await call(`${base}/pods/${encodeURIComponent(name)}`, 'DELETE');
    if (r.status !== 200) return fail(io, r.body);
    io.stdout.write(v.json ? `${JSON.stringify(r.body, null, 2)}\n` : `${name}: deleted\n`);
    return 0;
  }
  if (v.network === undefined || v.ip === undefined) throw new UsageError('weft pod add: --network and --ip are required', POD_USAGE);
  const slash = v.ip.indexOf('/');
  const plen = slash < 0 ? 24 : Number(v.ip.slice(slash + 1));
  const body: Record<string, unknown> = { name, network: v.network, ip: slash < 0 ? v.ip : v.ip.slice(0, slash), plen };
  if (v.mac !== undefined) body['mac'] = v.mac;
  if (v.gateway !== undefined) body['gateway'] = v.gateway;
  if (v.mtu !== undefined) body['mtu'] = Number(v.mtu);
  const r = await call(`${base}/pods`, 'POST', body);
  if (r.status !== 201) return fail(io, r.body);
  io.stdout.write(v.json ? `${JSON.stringify(r.body, null, 2)}\n` : line(r.body as PodAnswer));
  return 0;
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return { status: 0, body: { error: `cannot reach the agent at ${url}: ${cause ?? (e as Error).message}` } };
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: { error: text.trim() || `HTTP ${res.status}` } };
  }
}

function fail(io: CliIo, body: unknown): number {
  const b = body as { error?: string; message?: string };
  io.stderr.write(`weft pod: ${b.error ?? 'failed'}${b.message ? `\n${b.message}` : ''}\n`);
  return 1;
}
