import { describe, expect, it } from 'vitest';
import { applyConfigChange } from '../../../codecs/xmpp/index.js';
import { emptyAgentView, type AgentView } from '../../../src/config/agent-view.js';
import { agentViewOf, diffViews, fullView, tagIds } from '../../../src/control/agent-config.js';
import { changeModel, loadControlModel, parseControlModel, routingInstanceName, type ControlModel, type ModelChange } from '../../../src/control/config-model.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const D = 'default-domain:k8s-default';
const POD_VN = `${D}:k8s-default-pod-network`;
const SVC_VN = `${D}:k8s-default-service-network`;
const FIP_VN = 'default-domain:k8s-ns-user-1:vn-ns-default';
const POOL = `${FIP_VN}:pool-ns-default`;
const WEB_FIP = `${POOL}:webserver-1-fip`;
const LB_FIP = `${POOL}:service-web-lb`;
const WEB1 = `${D}:webserver-1-eth0`;
const WEB2 = `${D}:webserver-2-eth0`;

const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name);

function change(m: ControlModel, c: ModelChange): ControlModel {
  const r = changeModel(m, c);
  if (!r.ok) throw new Error(`${r.error}: ${JSON.stringify(r.issues)}`);
  return r.model;
}

describe('agentViewOf on the book lab', () => {
  it('cent222 holds its five pods\' ports with their networks, instances and tag ids', async () => {
    const m = await loadControlModel(LAB);
    const v = agentViewOf(m, 'cent222');
    expect(v.vrouter).toEqual({ name: 'cent222', address: '10.169.25.20' });
    expect(names(v.ports)).toEqual([
      WEB1,
      `${D}:client-eth0`,
      'default-domain:k8s-ns-isolated:isolated-2-eth0',
      `${D}:cirros-left-eth0`,
      `${D}:csrx-left`,
      `${D}:csrx-right`,
    ]);
    const ids = tagIds(m);
    for (const p of v.ports) {
      const model = m.ports.find((x) => x.name === p.name)!;
      expect(p.vrouter).toBe('cent222');
      expect(p.network).toBe(model.network);
      expect(p.instance).toBe(routingInstanceName(model.network));
      expect(p.ips).toEqual(model.ips);
      expect(p.mac).toBe(model.mac);
      expect(p.tags).toEqual(model.tags);
      expect(p.tagIds).toEqual(model.tags.map((t) => ids.get(t)));
      expect(p.pod).toBe(model.pod);
    }
    const web = v.ports[0]!;
    expect(web).toMatchObject({ instance: `${POD_VN}:k8s-default-pod-network`, ips: ['10.47.255.238'], mac: '02:c5:f6:3f:45:0a', pod: 'webserver-1', interface: 'eth0' });
    // csrx names its interfaces; the others get eth0 as the only port of their pod.
    expect(v.ports.map((p) => p.interface)).toEqual(['eth0', 'eth0', 'eth0', 'eth0', 'eth0', 'eth1']);
    // Ports of this vrouter, the FIP pool's network (FIPs of webserver-1) and the service network (its backend).
    expect(new Set(names(v.networks))).toEqual(
      new Set([POD_VN, 'default-domain:k8s-ns-isolated:k8s-ns-isolated-pod-network', `${D}:k8s-vn-left-1-pod-network`, `${D}:k8s-vn-right-1-pod-network`, FIP_VN, SVC_VN]),
    );
    const pod = v.networks.find((n) => n.name === POD_VN)!;
    expect(pod).toEqual({
      name: POD_VN,
      instance: `${POD_VN}:k8s-default-pod-network`,
      id: 5,
      subnets: [{ prefix: '10.32.0.0/12', gateway: '10.47.255.254', serviceAddress: '10.47.255.253' }],
    });
    expect(v.networks.find((n) => n.name === FIP_VN)).toMatchObject({ id: 16, subnets: [{ prefix: '203.0.113.0/24', gateway: '203.0.113.254', serviceAddress: '203.0.113.253' }] });
  });

  it('carries the pod FIP with its pool network and the LoadBalancer FIP with the service port map', async () => {
    const m = await loadControlModel(LAB);
    const v = agentViewOf(m, 'cent222');
    const inst = `${FIP_VN}:vn-ns-default`;
    expect(v.floatingIps).toEqual([
      { name: WEB_FIP, address: '203.0.113.2', network: FIP_VN, instance: inst, ports: [WEB1], portMap: [] },
      { name: LB_FIP, address: '203.0.113.252', network: FIP_VN, instance: inst, ports: [WEB1, WEB2], portMap: [{ protocol: 'tcp', port: 8888, targetPort: 80 }] },
    ]);
    expect(v.services).toEqual([
      {
        name: `${D}:service-web-clusterip`,
        network: SVC_VN,
        instance: `${SVC_VN}:k8s-default-service-network`,
        vip: '10.105.137.227',
        ports: [{ protocol: 'tcp', port: 8888, targetPort: 80 }],
        backends: [WEB1, WEB2],
      },
      {
        name: `${D}:service-web-lb`,
        network: SVC_VN,
        instance: `${SVC_VN}:k8s-default-service-network`,
        vip: '10.96.0.25',
        ports: [{ protocol: 'tcp', port: 8888, targetPort: 80 }],
        backends: [WEB1, WEB2],
      },
    ]);
    // cent333 hosts webserver-2: the LB FIP (bound to the service's backends) but not webserver-1's own.
    const b = agentViewOf(m, 'cent333');
    expect(names(b.floatingIps)).toEqual([LB_FIP]);
    expect(names(b.services)).toEqual([`${D}:service-web-clusterip`, `${D}:service-web-lb`]);
    expect(names(b.ports)).not.toContain(WEB1);
  });

  it('a service\'s floating IP is bound to its backends and carries its port map even when the FIP names neither', async () => {
    let m = await loadControlModel(LAB);
    m = change(m, { op: 'put', type: 'floating-ips', name: LB_FIP, body: { name: LB_FIP, address: '203.0.113.252' } });
    const v = agentViewOf(m, 'cent333');
    expect(v.floatingIps).toEqual([
      { name: LB_FIP, address: '203.0.113.252', network: FIP_VN, instance: `${FIP_VN}:vn-ns-default`, ports: [WEB1, WEB2], portMap: [{ protocol: 'tcp', port: 8888, targetPort: 80 }] },
    ]);
  });

  it('gives every tag Contrail\'s type<<16|index id (application from app=), and keeps configured ids', async () => {
    const m = await loadControlModel(LAB);
    const v = agentViewOf(m, 'cent222');
    expect(names(v.tags)).toEqual(names(m.tags));
    const byName = new Map(v.tags.map((t) => [t.name, t.id]));
    // app= tags: type application (1), numbered 1, 2, ... in the order listed.
    const apps = m.tags.filter((t) => t.name.startsWith('app='));
    expect(apps.map((t) => t.name)).toContain('app=client');
    expect(apps.map((t) => byName.get(t.name))).toEqual(apps.map((_, i) => (1 << 16) | (i + 1)));
    const webTag = m.ports.find((p) => p.name === WEB1)!.tags.find((t) => t.startsWith('app='))!;
    expect(byName.get(webTag)! >>> 16).toBe(1);
    expect(byName.get('app=client')! >>> 16).toBe(1);
    expect(v.ports.find((p) => p.name === WEB1)!.tagIds).toContain(byName.get(webTag));

    const t = parseControlModel(`
global: { router-id: 1.1.1.1 }
tags:
  - { name: app=a }
  - { name: tier=web }
  - { name: label=x, id: 2 }
  - { name: label=y }
  - { name: label=z }
  - { name: namespace=n }
  - { name: color=red }
  - { name: site=s }
  - { name: shape=round }
  - { name: color=blue }
  - { name: deployment=d }
  - { name: application=b }
`);
    expect(Object.fromEntries(tagIds(t))).toEqual({
      'app=a': 0x10001,
      'tier=web': 0x20001,
      'label=x': 2,
      // index 2 of type label is label=x's configured id: skipped.
      'label=y': 1,
      'label=z': 3,
      'namespace=n': 0x50001,
      'color=red': 0x60001,
      'site=s': 0x40001,
      'shape=round': 0x70001,
      'color=blue': 0x60002,
      'deployment=d': 0x30001,
      'application=b': 0x10002,
    });
  });

  it('holds every firewall policy and application policy set as the model has them', async () => {
    const lab = await loadControlModel(LAB);
    expect(lab.firewallPolicies.length).toBeGreaterThan(0);
    // The lab's policy sets come and go with the scenarios: add one so there is always one to check.
    const m = change(lab, {
      op: 'put',
      type: 'application-policy-sets',
      body: { name: `${D}:test-aps`, 'firewall-policies': [{ policy: lab.firewallPolicies[0]!.name, sequence: 7 }], tags: [lab.tags[0]!.name] },
    });
    const v = agentViewOf(m, 'cent333');
    const ep = (e: { tags: string[]; network?: string | undefined; any: boolean }) => ({ tags: e.tags, any: e.any, ...(e.network !== undefined ? { network: e.network } : {}) });
    expect(v.firewallPolicies).toEqual(
      m.firewallPolicies.map((p) => ({
        name: p.name,
        rules: p.rules.map((r) => ({ sequence: r.sequence, action: r.action, direction: r.direction, protocol: r.protocol, ports: r.ports, endpoint1: ep(r.endpoint1), endpoint2: ep(r.endpoint2) })),
      })),
    );
    expect(v.policySets).toEqual(m.applicationPolicySets.map((a) => ({ name: a.name, firewallPolicies: a.firewallPolicies, tags: a.tags })));
    expect(v.policySets.at(-1)).toEqual({ name: `${D}:test-aps`, firewallPolicies: [{ policy: lab.firewallPolicies[0]!.name, sequence: 7 }], tags: [lab.tags[0]!.name] });
  });

  it('gives a vrouter the model does not have the empty view', async () => {
    const m = await loadControlModel(LAB);
    expect(agentViewOf(m, 'cent999')).toEqual(emptyAgentView('cent999', ''));
  });
});

describe('diffViews', () => {
  it('is empty between equal views and is everything from the empty view', async () => {
    const m = await loadControlModel(LAB);
    const v = agentViewOf(m, 'cent222');
    expect(diffViews(v, agentViewOf(m, 'cent222'))).toEqual({ update: [], delete: [] });
    const all = diffViews(emptyAgentView('cent222', ''), v);
    expect(all).toEqual(fullView(v));
    expect(all.update[0]).toEqual({ type: 'virtual-router', value: { name: 'cent222', address: '10.169.25.20' } });
  });

  it('after a port change sends that port only; applied, the old view becomes the new one', async () => {
    const m = await loadControlModel(LAB);
    const old = agentViewOf(m, 'cent222');
    const port = m.ports.find((p) => p.name === `${D}:client-eth0`)!;
    const m2 = change(m, { op: 'put', type: 'ports', name: port.name, body: { name: port.name, network: port.network, mac: port.mac, ips: ['10.47.255.200'], vrouter: 'cent222', pod: 'client', tags: port.tags } });
    const now = agentViewOf(m2, 'cent222');
    const d = diffViews(old, now);
    expect(d.delete).toEqual([]);
    expect(d.update).toEqual([{ type: 'virtual-machine-interface', value: now.ports.find((p) => p.name === port.name) }]);
    expect((d.update[0]!.value as AgentView['ports'][number]).ips).toEqual(['10.47.255.200']);
    expect(applyConfigChange(old, d)).toEqual(now);
  });

  it('after a FIP unbind deletes the FIP, and the FIP network once nothing of the vrouter needs it', async () => {
    const m = await loadControlModel(LAB);
    const old = agentViewOf(m, 'cent222');
    const m2 = change(m, { op: 'put', type: 'floating-ips', name: WEB_FIP, body: { name: WEB_FIP, address: '203.0.113.2', ports: [] } });
    const d1 = diffViews(old, agentViewOf(m2, 'cent222'));
    expect(d1).toEqual({ update: [], delete: [{ type: 'floating-ip', name: WEB_FIP }] });
    // Without the LoadBalancer's FIP too, the pool network goes, after the FIP (reverse dependency order).
    const m3 = change(change(m2, { op: 'put', type: 'services', name: `${D}:service-web-lb`, body: { name: `${D}:service-web-lb`, network: SVC_VN, vip: '10.96.0.25', backends: [WEB1, WEB2] } }), {
      op: 'delete',
      type: 'floating-ips',
      name: LB_FIP,
    });
    const now = agentViewOf(m3, 'cent222');
    const d2 = diffViews(agentViewOf(m2, 'cent222'), now);
    expect(d2.delete).toEqual([
      { type: 'floating-ip', name: LB_FIP },
      { type: 'virtual-network', name: FIP_VN },
    ]);
    expect(d2.update).toEqual([{ type: 'service', value: now.services.find((s) => s.name === `${D}:service-web-lb`) }]);
    expect(applyConfigChange(old, diffViews(old, now))).toEqual(now);
  });

  it('moving a port to another vrouter deletes it from the first and adds it to the second', async () => {
    const m = await loadControlModel(LAB);
    const port = m.ports.find((p) => p.name === `${D}:cirros-left-eth0`)!;
    const m2 = change(m, { op: 'put', type: 'ports', name: port.name, body: { name: port.name, network: port.network, mac: port.mac, ips: port.ips, vrouter: 'cent333', pod: port.pod } });
    expect(diffViews(agentViewOf(m, 'cent222'), agentViewOf(m2, 'cent222')).delete).toEqual([{ type: 'virtual-machine-interface', name: port.name }]);
    const add = diffViews(agentViewOf(m, 'cent333'), agentViewOf(m2, 'cent333'));
    expect(add.delete).toEqual([]);
    expect(add.update.map((n) => [n.type, n.value.name])).toEqual([
      ['virtual-network', `${D}:k8s-vn-left-1-pod-network`],
      ['virtual-machine-interface', port.name],
    ]);
  });
});
