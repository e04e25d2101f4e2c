import { parseArgs } from 'node:util';
import type { PodInterfaceView } from '../agent/service.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage.js';

export const POD_USAGE = `usage: weft pod add <name> --port <port fq name> [--port ...] [--hostname H] [--mtu N]
       weft pod add <name> --network <instance> --ip <a.b.c.d/len> [--mac M] [--gateway G] [--mtu N]
       weft pod del <name>
       weft pod list

Creates (deletes) a pod through the agent's API: a network namespace <name> whose interfaces
are TAPs held by the agent. With --port, one interface per port of the control node's model
(network, address, MAC from the port; eth0, eth1... in the ports' interface order; tap names
tapeth<N>-<6 hex> sharing one suffix); with --network/--ip, one eth0 given by hand. Each gets
its address and the subnet's gateway, the default route goes via eth0's, and the agent
publishes each /32 to the control nodes. Run it where the agent's API is reachable.

  --agent URL     the agent API (default http://127.0.0.1:8085)
  --json          print the agent's JSON answer
`;

/** The agent's answer: its PodView (type only: the CLI does not load the agent). */
type InterfaceAnswer = Pick<PodInterfaceView, 'ip' | 'plen' | 'mac' | 'gateway' | 'osName' | 'vif' | 'vrf' | 'label' | 'network'> & { ifname?: string };
type PodAnswer = InterfaceAnswer & { name: string; interfaces?: InterfaceAnswer[] };

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
        port: { type: 'string', multiple: true },
        hostname: { type: 'string' },
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
  const itf = (i: InterfaceAnswer) => `${i.ip}/${i.plen} mac ${i.mac} gw ${i.gateway} vif0/${i.vif} ${i.osName} vrf ${i.vrf} label ${i.label} ${i.network}`;
  // One line for a one-interface pod, as before; then a line per interface.
  const line = (p: PodAnswer) => {
    const all = p.interfaces ?? [];
    if (all.length <= 1) return `${p.name}: ${itf(p)}\n`;
    return `${p.name}:\n${all.map((i) => `  ${i.ifname ?? '?'} ${itf(i)}\n`).join('')}`;
  };
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
  let body: Record<string, unknown>;
  if (v.port !== undefined) {
    if (v.network !== undefined || v.ip !== undefined || v.mac !== undefined || v.gateway !== undefined) {
      throw new UsageError('weft pod add: --port takes network, address and MAC from the port; drop --network/--ip/--mac/--gateway', POD_USAGE);
    }
    body = { name, ports: v.port };
    if (v.hostname !== undefined) body['hostname'] = v.hostname;
  } else {
    if (v.network === undefined || v.ip === undefined) throw new UsageError('weft pod add: --port, or --network and --ip, are required', POD_USAGE);
    if (v.hostname !== undefined) throw new UsageError('weft pod add: --hostname goes with --port', POD_USAGE);
    const slash = v.ip.indexOf('/');
    const plen = slash < 0 ? 24 : Number(v.ip.slice(slash + 1));
    body = { name, network: v.network, ip: slash < 0 ? v.ip : v.ip.slice(0, slash), plen };
    if (v.mac !== undefined) body['mac'] = v.mac;
    if (v.gateway !== undefined) body['gateway'] = v.gateway;
  }
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
