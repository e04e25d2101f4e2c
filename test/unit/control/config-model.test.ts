import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/issues.js';
import { changeModel, loadControlModel, parseControlModel, routingInstanceName, autoRouteTarget, toDocument } from '../../../src/control/config-model.js';
import { subnetDefaults } from '../../../src/config/control-model.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const FIP_VN = 'default-domain:k8s-ns-user-1:vn-ns-default';

describe('control model (book lab)', () => {
  it('loads the lab with the book names and defaults', async () => {
    const m = await loadControlModel(LAB);
    expect(m.global.asn).toBe(64512);
    expect(m.global.routerId).toBe('10.169.25.19');
    expect(m.global.encapsulation).toEqual(['MPLSoUDP', 'MPLSoGRE', 'VXLAN']);
    const pod = m.virtualNetworks.find((v) => v.name === 'default-domain:k8s-default:k8s-default-pod-network')!;
    // book lines 10695-10697: gateway 10.47.255.254 and service .253 in 10.32.0.0/12
    expect(pod.subnets[0]).toEqual({ prefix: '10.32.0.0/12', gateway: '10.47.255.254', serviceAddress: '10.47.255.253' });
    const fip = m.virtualNetworks.find((v) => v.name === FIP_VN)!;
    expect(fip.routeTargets).toEqual(['target:500:500']);
    expect(autoRouteTarget(m.global.asn, fip.id)).toBe('target:64512:8000016');
    expect(routingInstanceName(FIP_VN)).toBe(`${FIP_VN}:vn-ns-default`);
    expect(m.global.rest).toEqual({ address: '127.0.0.1', port: 8082 });
  });

  it('subnet defaults are broadcast-1 and broadcast-2', () => {
    expect(subnetDefaults('203.0.113.0/24')).toEqual({ gateway: '203.0.113.254', serviceAddress: '203.0.113.253' });
  });

  it('allocates VN ids lowest-free and keeps them across changes', () => {
    const m = parseControlModel(
      'global: { router-id: 1.1.1.1 }\nprojects: [{ name: d:p }]\nvirtual-networks:\n  - { name: d:p:a, id: 1 }\n  - { name: d:p:b }\n  - { name: d:p:c }\n',
    );
    expect(m.virtualNetworks.map((v) => v.id)).toEqual([1, 2, 3]);
    const r = changeModel(m, { op: 'delete', type: 'virtual-networks', name: 'd:p:b' });
    expect(r.ok && r.model.virtualNetworks.map((v) => [v.name, v.id])).toEqual([['d:p:a', 1], ['d:p:c', 3]]);
  });

  it('reports cross references with file:line:col and field path', () => {
    const text = readFileSync(LAB, 'utf8').replace('vrouter: cent333, tags', 'vrouter: cent999, tags');
    let err: ConfigError | undefined;
    try {
      parseControlModel(text, 'lab.yaml');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.issues).toHaveLength(1);
    expect(err!.message).toMatch(/^lab\.yaml:\d+:\d+: ports\[1\]\.vrouter: no vrouter named 'cent999'$/);
    const line = text.split('\n').findIndex((l) => l.includes('cent999')) + 1;
    expect(err!.issues[0]!.line).toBe(line);
  });

  it('REST-style change: bad body names its JSON path, bad reference names the model path, nothing applied', async () => {
    const m = await loadControlModel(LAB);
    const bad = changeModel(m, { op: 'put', type: 'network-policies', body: { name: 'default-domain:k8s-default:p', rules: [{ 'source-network': 'x', 'destination-network': FIP_VN }] } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues!.map((i) => i.path)).toEqual(['rules[0].source-network']);
    const dangling = changeModel(m, { op: 'put', type: 'network-policies', body: { name: 'default-domain:k8s-default:p', rules: [{ 'source-network': 'default-domain:k8s-default:nope', 'destination-network': FIP_VN }] } });
    expect(!dangling.ok && dangling.status).toBe(400);
    expect(!dangling.ok && dangling.issues!.map((i) => i.path)).toEqual(['network-policies[1].rules[0].source-network']);
    const ok = changeModel(m, { op: 'put', type: 'network-policies', body: { name: 'default-domain:k8s-default:p', rules: [{ 'source-network': 'default-domain:k8s-default:k8s-default-pod-network', 'destination-network': FIP_VN }] } });
    expect(ok.ok && ok.model.networkPolicies.length).toBe(2);
    expect(m.networkPolicies.length).toBe(1);
    // The document form round-trips through the schema.
    const again = changeModel(m, { op: 'put', type: 'vrouters', name: 'cent222', body: toDocument(m.vrouters[0]) });
    expect(again.ok && again.model).toEqual(m);
  });
});
