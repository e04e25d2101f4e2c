import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../../src/agent/config.js';
import { agentConfigOf, defaultGateway, podMac, podRequestSchema } from '../../../src/agent/service.js';
import { validateJson, validateYaml } from '../../../src/config/load.js';

describe('weft agent configuration', () => {
  it('reads a full file into the Agent configuration, with the defaults filled in', () => {
    const r = validateYaml(
      `name: cent222
vhost: { address: 10.169.25.20 }
control-nodes: [{ address: 10.169.25.19 }, { address: 10.169.25.18, port: 15269 }]
encapsulation: [VXLAN, MPLSoUDP]
networks:
  - { name: "default-domain:k8s-default:vn1:vn1", vxlan-id: 5 }
  - { name: "default-domain:k8s-default:vn2:vn2" }
`,
      agentConfigSchema,
      'agent.yaml',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.value.introspect).toEqual({ address: '127.0.0.1', port: 8085 });
    expect(r.value.dataplane).toEqual({ udpSenders: 8, sourcePortBase: 49152, gre: true });
    expect(agentConfigOf(r.value)).toEqual({
      name: 'cent222',
      vhostIp: '10.169.25.20',
      controlNodes: [
        { host: '10.169.25.19', port: 5269, localAddress: '10.169.25.20' },
        { host: '10.169.25.18', port: 15269, localAddress: '10.169.25.20' },
      ],
      encapPriority: ['VXLAN', 'MPLSoUDP'],
      networkVnis: { 'default-domain:k8s-default:vn1:vn1': 5 },
    });
  });

  it('names every bad field with its line', () => {
    const r = validateYaml(
      `name: cn1
vhost: { address: 10.0.0.300 }
control-nodes: [{ address: 10.0.0.1 }, { address: 10.0.0.2 }, { address: 10.0.0.3 }]
encapsulation: [MPLSoUDP, IPIP]
`,
      agentConfigSchema,
      'agent.yaml',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.line}:${i.path}`)).toEqual(['2:vhost.address', '3:control-nodes', '4:encapsulation[1]']);
  });
});

describe('pod requests', () => {
  it('defaults: MAC 02:<name hash>:<last two octets>, gateway the subnet\'s broadcast - 1', () => {
    expect(podMac('pod-a', '10.91.0.3')).toMatch(/^02:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:00:03$/);
    expect(podMac('pod-a', '10.91.0.3')).not.toBe(podMac('pod-b', '10.91.0.3'));
    expect(defaultGateway('10.91.0.3', 24)).toBe('10.91.0.254');
    expect(defaultGateway('10.47.255.238', 12)).toBe('10.47.255.254');
    expect(defaultGateway('192.168.7.9', 29)).toBe('192.168.7.14');
  });

  it('rejects names that are not safe namespace names and prefixes without room for a gateway', () => {
    const r = validateJson({ name: '../etc', network: 'a:b:c:c', ip: '10.0.0.1', plen: 31 }, podRequestSchema);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).sort()).toEqual(['name', 'plen']);
  });
});
