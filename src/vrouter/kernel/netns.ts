/**
 * Network namespaces and links through iproute2 (`ip`), the tool every CNI plugin and the
 * Contrail agent's scripts use: no netlink code of our own to get wrong. Arguments are passed
 * as argv (never through a shell), so names cannot inject commands.
 */
import { execFile } from 'node:child_process';

export const NETNS_DIR = '/var/run/netns';

/** What `ip netns add` accepts and what is safe as a path component. */
const NAME_OK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkName(kind: string, name: string): void {
  if (!NAME_OK.test(name)) throw new Error(`bad ${kind} name ${JSON.stringify(name)}`);
}

export function netnsPath(ns: string): string {
  checkName('namespace', ns);
  return `${NETNS_DIR}/${ns}`;
}

/** Runs `ip args...`; rejects with ip's stderr in the message. */
export function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args as string[], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** `ip -n ns args...` (or plain `ip args...` for the agent's own namespace). */
export function ipIn(ns: string | undefined, args: readonly string[]): Promise<string> {
  return ip(ns === undefined ? args : ['-n', ns, ...args]);
}

/** Runs a command inside `ns`; resolves with its exit code and output (never rejects on a non-zero exit). */
export function execInNetns(
  ns: string,
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  checkName('namespace', ns);
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

export async function createNetns(ns: string): Promise<void> {
  checkName('namespace', ns);
  await ip(['netns', 'add', ns]);
  // Loopback down breaks anything that talks to 127.0.0.1 inside the pod.
  await ipIn(ns, ['link', 'set', 'dev', 'lo', 'up']);
}

export async function deleteNetns(ns: string): Promise<void> {
  checkName('namespace', ns);
  await ip(['netns', 'delete', ns]);
}

export async function listNetns(): Promise<string[]> {
  const out = await ip(['-j', 'netns', 'list']);
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

/** Moves a link from `from` (undefined: the agent's namespace) into namespace `to`. */
export async function moveLink(ifname: string, to: string, from?: string): Promise<void> {
  checkName('namespace', to);
  await ipIn(from, ['link', 'set', 'dev', ifname, 'netns', to]);
}

export interface LinkConfig {
  /** Rename to this (the link must be down, which a freshly moved link is). */
  rename?: string;
  mac?: string;
  /** `a.b.c.d/len` */
  address?: string;
  mtu?: number;
  up?: boolean;
  /** Default route via this gateway on the link. */
  defaultGateway?: string;
}

/** Configures a link in `ns` in the order the kernel needs: name and MAC while down, then up, address, route. */
export async function configureLink(ns: string | undefined, ifname: string, c: LinkConfig): Promise<string> {
  let name = ifname;
  if (c.rename !== undefined && c.rename !== ifname) {
    await ipIn(ns, ['link', 'set', 'dev', name, 'name', c.rename]);
    name = c.rename;
  }
  if (c.mac !== undefined) await ipIn(ns, ['link', 'set', 'dev', name, 'address', c.mac]);
  if (c.mtu !== undefined) await ipIn(ns, ['link', 'set', 'dev', name, 'mtu', String(c.mtu)]);
  if (c.address !== undefined) await ipIn(ns, ['address', 'add', c.address, 'dev', name]);
  if (c.up) await ipIn(ns, ['link', 'set', 'dev', name, 'up']);
  if (c.defaultGateway !== undefined) {
    await ipIn(ns, ['route', 'add', 'default', 'via', c.defaultGateway, 'dev', name]);
  }
  return name;
}

/** Creates a veth pair `a` (left in `nsA`) / `b` (moved into `nsB`). */
export async function createVethPair(a: string, b: string, nsA?: string, nsB?: string): Promise<void> {
  await ipIn(nsA, ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  if (nsB !== undefined) await moveLink(b, nsB, nsA);
}

export async function deleteLink(ns: string | undefined, ifname: string): Promise<void> {
  await ipIn(ns, ['link', 'delete', 'dev', ifname]);
}
