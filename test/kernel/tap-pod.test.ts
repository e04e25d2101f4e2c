/**
 * A pod namespace whose eth0 is a TAP held by this process: the pod pings its gateway .254
 * and a responder on the TAP fd answers ARP and ICMP echo with frames built by codecs/net.
 * This also proves a TAP's fd keeps working after the device moved into another namespace.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArpOp,
  decodeArp,
  decodeEthernet,
  decodeIcmp,
  decodeIpv4,
  encodeArp,
  encodeEthernet,
  encodeIcmp,
  encodeIpv4,
  EtherType,
  IcmpType,
  IpProtocol,
} from '../../codecs/net/index.js';
import { addPod, delPod, type Pod } from '../../src/vrouter/kernel/pod.js';
import { execInNetns, listNetns } from '../../src/vrouter/kernel/netns.js';
import { requireKernelAccess, testPrefix } from './preconditions.js';

const VROUTER_MAC = '00:00:5e:00:01:00';
const POD_MAC = '02:7e:f7:00:00:01';
const POD_IP = '10.91.1.3';
const GW = '10.91.1.254';
const NS = testPrefix('pod');

/** What the agent would do for the gateway: answer ARP and echo requests aimed at it. */
function respond(frame: Uint8Array, counts: { arp: number; echo: number; other: number }): Uint8Array | undefined {
  const eth = decodeEthernet(frame);
  if (eth.etherType === EtherType.ARP) {
    const arp = decodeArp(eth.payload);
    if (arp.op !== ArpOp.REQUEST || arp.tpa !== GW) return undefined;
    counts.arp++;
    const reply = encodeArp({ op: ArpOp.REPLY, sha: VROUTER_MAC, spa: GW, tha: arp.sha, tpa: arp.spa });
    return encodeEthernet({ dst: eth.src, src: VROUTER_MAC, etherType: EtherType.ARP, payload: reply });
  }
  if (eth.etherType === EtherType.IPV4) {
    const ip = decodeIpv4(eth.payload);
    if (ip.protocol !== IpProtocol.ICMP || ip.dst !== GW) return void counts.other++;
    const icmp = decodeIcmp(ip.payload);
    if (icmp.type !== IcmpType.ECHO_REQUEST || !icmp.checksumOk) return void counts.other++;
    counts.echo++;
    const echo = encodeIcmp({ type: IcmpType.ECHO_REPLY, identifier: icmp.identifier!, sequence: icmp.sequence!, data: icmp.data });
    const ipOut = encodeIpv4({ protocol: IpProtocol.ICMP, src: GW, dst: ip.src, ttl: 64, payload: echo });
    return encodeEthernet({ dst: eth.src, src: VROUTER_MAC, etherType: EtherType.IPV4, payload: ipOut });
  }
  counts.other++;
  return undefined;
}

describe('pod TAP in its own namespace', () => {
  let pod: Pod;

  beforeAll(async () => {
    requireKernelAccess(['ip', 'ping']);
    pod = await addPod({
      name: NS,
      interfaces: [{ vrf: 'default-domain:test:vn1:vn1', ip: POD_IP, plen: 24, mac: POD_MAC, gateway: GW, osNameSuffix: 'a1b2c3' }],
    });
  });

  afterAll(async () => {
    await delPod(NS);
  });

  it('names the vif tapeth0-<hex> and shows it as eth0 with MAC, address and default route in the pod', async () => {
    const itf = pod.interfaces[0]!;
    expect(itf.osName).toBe('tapeth0-a1b2c3');
    expect(itf.tap.name).toBe('tapeth0-a1b2c3');
    // Gone from the agent's namespace...
    expect(() => execFileSync('ip', ['link', 'show', 'dev', itf.osName], { stdio: 'pipe' })).toThrow();
    // ...and present, configured, in the pod's.
    const links = JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' })) as {
      address: string;
      flags: string[];
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    expect(links[0]!.address).toBe(POD_MAC);
    expect(links[0]!.flags).toContain('UP');
    expect(links[0]!.addr_info.find((a) => a.family === 'inet')).toMatchObject({ local: POD_IP, prefixlen: 24 });
    const routes = JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'route', 'show', 'default'], { encoding: 'utf8' })) as {
      gateway: string;
      dev: string;
    }[];
    expect(routes).toEqual([expect.objectContaining({ dst: 'default', gateway: GW, dev: 'eth0' })]);
  });

  it('ping from the pod to .254 is answered through the TAP fd', async () => {
    const tap = pod.interfaces[0]!.tap;
    const counts = { arp: 0, echo: 0, other: 0 };
    tap.start((frames) => {
      const replies: Uint8Array[] = [];
      for (const f of frames) {
        const r = respond(f, counts);
        if (r) replies.push(r);
      }
      if (replies.length > 0) expect(tap.writeMany(replies)).toBe(replies.length);
    });
    try {
      // Async exec: the responder runs on this event loop while ping waits for it.
      const res = await execInNetns(NS, ['ping', '-c', '3', '-W', '1', '-i', '0.2', GW]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    } finally {
      tap.stop();
    }
    expect(counts.echo).toBe(3);
    expect(counts.arp).toBeGreaterThanOrEqual(1);
    // The ARP reply written to the fd reached the pod's kernel.
    const neigh = execFileSync('ip', ['-n', NS, 'neigh', 'show', GW], { encoding: 'utf8' });
    expect(neigh).toContain(`lladdr ${VROUTER_MAC}`);
  });

  it('reads frames as an async stream of copies', async () => {
    const tap = pod.interfaces[0]!.tap;
    const pinger = execInNetns(NS, ['ping', '-c', '1', '-W', '1', GW]); // unanswered: only needs to be sent
    let seen: Uint8Array | undefined;
    for await (const frame of tap) {
      const eth = decodeEthernet(frame);
      if (eth.etherType !== EtherType.IPV4) continue;
      const ip = decodeIpv4(eth.payload);
      if (ip.protocol === IpProtocol.ICMP && ip.dst === GW) {
        seen = frame;
        break;
      }
    }
    await pinger;
    expect(seen).toBeDefined();
    const eth = decodeEthernet(seen!);
    expect(eth.src).toBe(POD_MAC);
    expect(eth.dst).toBe(VROUTER_MAC);
    expect(decodeIpv4(eth.payload).src).toBe(POD_IP);
  });

  it('delPod closes the TAP and removes the namespace', async () => {
    const tap = pod.interfaces[0]!.tap;
    await delPod(NS);
    expect(tap.isClosed).toBe(true);
    expect(await listNetns()).not.toContain(NS);
  });
});
