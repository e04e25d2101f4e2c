import {
  CONTROL_NODE_JID,
  agentEor,
  agentEorIqs,
  agentStreamOpen,
  configSubscribe,
  evpnEntry,
  evpnNextHop,
  evpnNlri,
  parseXml,
  routePublish,
  routeSubscribe,
  routeUpdateMessages,
  routeWithdrawMessages,
  serverEor,
  serverStreamOpen,
  streamError,
  tlsFeatures,
  unicastEntry,
  unicastNextHop,
  vmConfigSubscribe,
  type PublishItem,
  type Stanza,
} from '../../../codecs/xmpp/index.js';

/** The stanzas of a whole session, agent and CN, in the order of section 5, from the builders. */
export const VRF = 'default-domain:admin:vn1:vn1';
// Non-ASCII names make UTF-8 sequences straddle the random cut points.
const VN = 'default-domain:admin:vn-é中🙂';

function inet(i: number, label: number) {
  return unicastEntry({
    nlri: { af: 1, safi: 1, address: `10.1.${i >> 8}.${i & 255}/32` },
    nextHops: [
      unicastNextHop({
        af: 1,
        address: '10.0.0.11',
        mac: '52:54:00:12:34:56',
        label,
        tunnelEncapsulation: ['gre', 'udp'],
        virtualNetwork: VN,
        tags: [1, 2],
      }),
    ],
    virtualNetwork: VN,
    mobility: { sticky: i % 2 === 0, seqno: i },
    securityGroups: [8000002, 7],
    communityTags: ['no-export', '64512:100'],
    localPreference: 200,
    loadBalance: { fields: ['l3-source-address', 'l4-protocol'], decision: 'field-hash' },
  });
}

export function session(): Stanza[] {
  const evpn = evpnEntry({
    nlri: evpnNlri({ mac: '02:8c:1a:2b:3c:4d', address: '10.1.1.3/32' }),
    nextHops: [evpnNextHop({ af: 1, address: '10.0.0.11', label: 26, tunnelEncapsulation: ['gre', 'udp'] })],
    virtualNetwork: VN,
    localPreference: 100,
  });
  const reflected: PublishItem[] = [];
  for (let i = 0; i < 70; i++) reflected.push({ id: `10.1.${i >> 8}.${i & 255}/32`, entry: inet(i, 16 + i) });
  const updates = routeUpdateMessages({ agent: 'compute-1', node: `1/1/${VRF}`, items: reflected });
  const withdraws = routeWithdrawMessages({ agent: 'compute-1', node: `1/1/${VRF}`, ids: reflected.map((r) => r.id!), maxRetracts: 50 });
  return [
    agentStreamOpen('compute-1'),
    serverStreamOpen('cn-host-1', 'compute-1'),
    tlsFeatures(),
    { kind: 'starttls' },
    { kind: 'proceed' },
    configSubscribe('compute-1'),
    {
      kind: 'config',
      type: 'set',
      from: CONTROL_NODE_JID,
      to: 'default-global-system-config:compute-1/config',
      config: parseXml('<config><update><node type="virtual-router"><name>default-global-system-config:compute-1</name></node></update></config>'),
    },
    vmConfigSubscribe('compute-1', '5d2b6fd7-0c8a-4b1e-9b3e-6a8f0f6b9a01'),
    routeSubscribe({ from: 'compute-1', vrf: VRF, instanceId: 3, seq: 1 }),
    ...routePublish({ from: 'compute-1', vrf: VRF, entry: inet(3, 25), add: true, seq: 2 }),
    ...routePublish({ from: 'compute-1', vrf: VRF, entry: evpn, add: true, seq: 3 }),
    ...updates,
    serverEor('compute-1'),
    agentEor('compute-1'),
    ...agentEorIqs('compute-1'),
    ...withdraws,
    ...routePublish({ from: 'compute-1', vrf: VRF, entry: inet(3, 25), add: false, seq: 4 }),
    routeSubscribe({ from: 'compute-1', vrf: VRF, instanceId: 3, seq: 5, unsubscribe: true }),
    streamError('policy-violation', 'bye <now> & "forever"'),
    { kind: 'stream-close' },
  ];
}

