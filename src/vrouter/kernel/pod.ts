/**
 * Pods as the agent sees them: a network namespace with one TAP per network. Each TAP is
 * created in the agent's namespace as `tapeth<N>-<6 hex>` (the vif's OS name, as in
 * Contrail), then moved into the pod and renamed eth<N>. The agent keeps the fd: a TAP's fd
 * stays bound to its device across namespaces, so reads and writes go on working after the
 * move, and closing the fd deletes the pod's interface.
 */
import { randomBytes } from 'node:crypto';
import { configureLink, createNetns, deleteNetns, listNetns, moveLink, netnsPath } from './netns.js';
import { Tap, type TapOptions } from './tap.js';

export interface PodInterfaceSpec {
  vrf: string;
  ip: string;
  plen: number;
  /** `02:..` (locally administered); the agent allocates it. */
  mac: string;
  /** The subnet's .254; the default route of eth0 goes through it. */
  gateway: string;
  /** Six hex digits for the OS name (Contrail uses the port UUID's first ones); random when absent. */
  osNameSuffix?: string;
  mtu?: number;
}

export interface PodSpec {
  /** Also the namespace name. */
  name: string;
  interfaces: PodInterfaceSpec[];
}

export interface PodInterface extends PodInterfaceSpec {
  index: number;
  /** The vif's OS name (`tapeth0-1a2b3c`). */
  osName: string;
  /** Its name inside the pod (`eth0`). */
  podIfname: string;
  tap: Tap;
}

export interface Pod {
  name: string;
  netns: string;
  netnsPath: string;
  interfaces: PodInterface[];
}

const pods = new Map<string, Pod>();

export function osNameFor(index: number, suffix?: string): string {
  const hex = (suffix ?? randomBytes(3).toString('hex')).toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(hex)) throw new Error(`OS name suffix must be 6 hex digits, got ${hex}`);
  return `tapeth${index}-${hex}`;
}

export async function addPod(spec: PodSpec, tapOptions: Omit<TapOptions, 'netnsPath'> = {}): Promise<Pod> {
  if (pods.has(spec.name)) throw new Error(`pod ${spec.name} exists`);
  if (spec.interfaces.length === 0) throw new Error(`pod ${spec.name} has no interfaces`);
  const pod: Pod = { name: spec.name, netns: spec.name, netnsPath: netnsPath(spec.name), interfaces: [] };
  await createNetns(pod.netns);
  try {
    for (const [index, itf] of spec.interfaces.entries()) {
      const osName = osNameFor(index, itf.osNameSuffix);
      const tap = Tap.open(osName, tapOptions);
      const podIfname = `eth${index}`;
      pod.interfaces.push({ ...itf, index, osName, podIfname, tap });
      await moveLink(osName, pod.netns);
      await configureLink(pod.netns, osName, {
        rename: podIfname,
        mac: itf.mac,
        ...(itf.mtu !== undefined ? { mtu: itf.mtu } : {}),
        address: `${itf.ip}/${itf.plen}`,
        up: true,
        ...(index === 0 ? { defaultGateway: itf.gateway } : {}),
      });
    }
  } catch (err) {
    for (const i of pod.interfaces) i.tap.close();
    await deleteNetns(pod.netns).catch(() => undefined);
    throw err;
  }
  pods.set(pod.name, pod);
  return pod;
}

/**
 * Closes the pod's TAPs (which deletes its interfaces) and its namespace. A pod unknown to
 * this process (agent restarted: its fds, hence its TAPs, are already gone) only loses its
 * namespace; deleting a pod that does not exist is not an error.
 */
export async function delPod(name: string): Promise<void> {
  const pod = pods.get(name);
  pods.delete(name);
  if (pod) for (const i of pod.interfaces) i.tap.close();
  if ((await listNetns()).includes(name)) await deleteNetns(name);
}

export function getPod(name: string): Pod | undefined {
  return pods.get(name);
}

export function listPods(): Pod[] {
  return [...pods.values()];
}
