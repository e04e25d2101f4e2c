/**
 * The gateway's kernel state around its TAP, in the namespace it runs in (weft-gateway):
 *
 * - the TAP: NOARP (the kernel then sends FIP packets to it without resolving anything), up,
 *   an MTU that leaves room for the 28 bytes of IPv4/GRE/MPLS, no IPv6 (router solicitations
 *   would only be counted drops), no reverse-path filter (packets written into it come from
 *   FIPs, which the main table does not route back to it);
 * - forwarding on, and the Internet's own table (100): its networks on the Internet link, the
 *   FIP pools into the TAP, `unreachable default`, looked up for everything arriving on the
 *   Internet link or from the TAP. So the Internet host reaches the FIPs and never the fabric.
 *
 * Everything is checked before it is added, so running it against the lab's own setup changes
 * nothing; it returns what it did for the log. Commands go through `ip` (netns.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ip } from '../vrouter/kernel/netns.js';

export interface TapSetup {
  name: string;
  mtu: number;
}

export interface PolicyRouting {
  table: number;
  priority: number;
  /** The Internet link. */
  interface: string;
  networks: readonly string[];
  gateway?: string;
  floatingIpPools: readonly string[];
  tap: string;
}

/** `parts` rather than a dotted name: interface names may hold dots. */
async function sysctl(parts: readonly string[], value: string, done: string[]): Promise<void> {
  const file = `/proc/sys/${parts.join('/')}`;
  const path = parts.join('.');
  const now = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (now === value) return;
  await writeFile(file, value);
  done.push(`${path}=${value} (was ${now || '?'})`);
}

/** Brings the TAP up as the gateway needs it; returns its MAC and what changed. */
export async function prepareTap(t: TapSetup): Promise<{ mac: string; done: string[] }> {
  const done: string[] = [];
  await ip(['link', 'set', 'dev', t.name, 'mtu', String(t.mtu), 'arp', 'off', 'up']);
  await sysctl(['net', 'ipv6', 'conf', t.name, 'disable_ipv6'], '1', done).catch(() => undefined); // no IPv6 in the kernel: nothing to disable
  await sysctl(['net', 'ipv4', 'conf', t.name, 'rp_filter'], '0', done);
  // The effective rp_filter is max(all, device): a strict `all` would still drop FIP sources.
  await sysctl(['net', 'ipv4', 'conf', 'all', 'rp_filter'], '0', done);
  const link = JSON.parse(await ip(['-j', 'link', 'show', 'dev', t.name])) as { address?: string }[];
  const mac = link[0]?.address;
  if (!mac) throw new Error(`${t.name} has no MAC address`);
  return { mac, done };
}

interface RuleJson {
  priority?: number;
  iif?: string;
  table?: string | number;
  src?: string;
}

interface RouteJson {
  dst?: string;
  type?: string;
  dev?: string;
}

function routeKey(r: RouteJson): string {
  return `${r.type ?? 'unicast'} ${r.dst ?? ''}`;
}

/** Table and rules of the Internet side; idempotent. */
export async function ensurePolicyRouting(p: PolicyRouting): Promise<string[]> {
  const done: string[] = [];
  await sysctl(['net', 'ipv4', 'ip_forward'], '1', done);
  const table = String(p.table);
  // A table with no route yet does not exist for the kernel, which `ip` reports as an error.
  const listed = await ip(['-j', 'route', 'show', 'table', table]).catch((e: Error) => {
    if (/does not exist/.test(e.message)) return '[]';
    throw e;
  });
  const routes = JSON.parse(listed.trim() || '[]') as RouteJson[];
  const have = new Set(routes.map(routeKey));
  for (const net of p.networks) {
    if (have.has(`unicast ${net}`)) continue;
    await ip(['route', 'add', 'table', table, net, ...(p.gateway ? ['via', p.gateway] : []), 'dev', p.interface]);
    done.push(`route ${net} dev ${p.interface} table ${table}`);
  }
  // The TAP is new on every start, and the kernel removed the old TAP's routes with it.
  for (const pool of p.floatingIpPools) {
    const cur = routes.find((r) => routeKey(r) === `unicast ${pool}`);
    if (cur?.dev === p.tap) continue;
    await ip(['route', 'replace', 'table', table, pool, 'dev', p.tap]);
    done.push(`route ${pool} dev ${p.tap} table ${table}`);
  }
  if (!have.has('unreachable default')) {
    await ip(['route', 'add', 'table', table, 'unreachable', 'default']);
    done.push(`route unreachable default table ${table}`);
  }
  const rules = JSON.parse((await ip(['-j', 'rule', 'show'])).trim() || '[]') as RuleJson[];
  for (const iif of [p.interface, p.tap]) {
    if (rules.some((r) => r.iif === iif && String(r.table) === table)) continue;
    await ip(['rule', 'add', 'iif', iif, 'lookup', table, 'priority', String(p.priority)]);
    done.push(`rule iif ${iif} lookup ${table} priority ${p.priority}`);
  }
  return done;
}
