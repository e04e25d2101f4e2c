/**
 * The XMPP part of the sample capture: a vRouter agent's session with the control node on
 * TCP 5269 in Contrail's dialect (contrail-xmpp-dialect.md sections 3, 5, 8, 10), each stanza
 * built with the codecs/xmpp builders and sent in a segment of its own.
 */
import {
  BGP_PEER_JID,
  CONTROL_NODE_JID,
  STREAMS_NS,
  agentEor,
  agentStreamOpen,
  encodeStanzaBytes,
  routePublish,
  routeSubscribe,
  routeUpdateMessages,
  serverEor,
  serverStreamOpen,
  escapeAttr,
  escapeText,
  stanzaElement,
  unicastEntry,
  unicastNextHop,
  type Stanza,
  type StreamOpen,
  type XmlElement,
} from '../../codecs/xmpp/index.js';
import { TcpConversation, type FrameList, type TsharkFields } from './frames.js';

const AGENT = 'compute-1';
const CN_HOST = 'cn1';
const COMPUTE1 = { mac: '02:00:c0:00:02:0b', ip: '192.0.2.11' };
const COMPUTE2_IP = '192.0.2.12';
const CN = { mac: '02:00:c0:00:02:01', ip: '192.0.2.1' };
const VN = 'default-domain:k8s-default:k8s-default-pod-network';
const VRF = `${VN}:k8s-default-pod-network`;

/**
 * What tshark's XML dissector lists for an element tree: every attribute as written
 * (`name="value"`) and every text node, both in document order.
 */
function xmlFields(root: XmlElement): TsharkFields {
  const attrs: string[] = [];
  const texts: string[] = [];
  const walk = (el: XmlElement) => {
    for (const [k, v] of Object.entries(el.attrs)) attrs.push(`${k}="${escapeAttr(v)}"`);
    for (const c of el.children) {
      if (typeof c === 'string') texts.push(escapeText(c));
      else walk(c);
    }
  };
  walk(root);
  const f: TsharkFields = { 'xml.attribute': attrs };
  if (texts.length) f['xml.cdata'] = texts;
  return f;
}

/** The stream header's attributes in the order encodeStreamOpen writes them. */
function streamOpenFields(h: StreamOpen): TsharkFields {
  const attrs: [string, string | undefined][] = [
    ['from', h.from],
    ['to', h.to],
    ['id', h.id],
    ['version', h.version],
    ['xml:lang', h.lang],
    ['xmlns', h.xmlns],
    ['xmlns:stream', STREAMS_NS],
  ];
  return {
    'xmpp.stream': ['1'],
    'xml.attribute': attrs.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${escapeAttr(v!)}"`),
  };
}

export function addXmppSession(list: FrameList): void {
  const tcp = new TcpConversation(list, { ...COMPUTE1, port: 41269, isn: 0x3e0c0001 }, { ...CN, port: 5269, isn: 0x4f0d0001 });
  tcp.handshake('XMPP');
  const send = (fromAgent: boolean, s: Stanza, what: string, tshark: TsharkFields) => {
    let xml: TsharkFields = {};
    if (s.kind === 'stream-open') xml = streamOpenFields(s);
    else if (s.kind !== 'stream-close') xml = xmlFields(stanzaElement(s));
    return tcp.send(fromAgent, encodeStanzaBytes(s), `XMPP ${what}`, { ...xml, ...tshark });
  };

  const open = agentStreamOpen(AGENT);
  send(true, open, 'stream header (agent)', {});
  const reply = serverStreamOpen(CN_HOST, AGENT);
  send(false, reply, 'stream header (control node)', {});

  const sub = routeSubscribe({ from: AGENT, vrf: VRF, instanceId: 3, seq: 1 });
  send(true, sub, 'subscribe to the pod network routing instance', {
    'xmpp.iq': ['1'],
    'xmpp.type': ['set'],
    'xmpp.from': [AGENT],
    'xmpp.to': [BGP_PEER_JID],
    'xmpp.id': [sub.id!],
  });

  const local = unicastEntry({
    nlri: { af: 1, safi: 1, address: '10.10.0.3/32' },
    nextHops: [
      unicastNextHop({ af: 1, address: COMPUTE1.ip, mac: COMPUTE1.mac, label: 16, tunnelEncapsulation: ['gre', 'udp'], virtualNetwork: VN }),
    ],
    localPreference: 200,
    subProtocol: 'interface',
  });
  const [pub, col] = routePublish({ from: AGENT, vrf: VRF, entry: local, add: true, seq: 2 });
  send(true, pub, 'publish inet route 10.10.0.3/32', { 'xmpp.iq': ['1'], 'xmpp.type': ['set'], 'xmpp.id': [pub.id!] });
  send(true, col, 'collection associate 10.10.0.3/32', { 'xmpp.iq': ['1'], 'xmpp.type': ['set'], 'xmpp.id': [col.id!] });

  const remote = unicastEntry({
    nlri: { af: 1, safi: 1, address: '10.10.0.4/32' },
    nextHops: [unicastNextHop({ af: 1, address: COMPUTE2_IP, label: 17, tunnelEncapsulation: ['gre', 'udp'], virtualNetwork: VN })],
    virtualNetwork: VN,
    localPreference: 200,
    med: 100,
  });
  const [event] = routeUpdateMessages({ agent: AGENT, node: `1/1/${VRF}`, items: [{ id: '10.10.0.4/32', entry: remote }] });
  send(false, event!, 'route update event with one item', { 'xmpp.message': ['1'], 'xmpp.from': [CONTROL_NODE_JID], 'xmpp.to': [`${AGENT}/bgp-peer`] });
  send(false, serverEor(AGENT), 'End-of-RIB (control node)', { 'xmpp.message': ['1'], 'xmpp.from': [CONTROL_NODE_JID], 'xmpp.to': [`${AGENT}/bgp-peer`] });
  send(true, agentEor(AGENT), 'End-of-RIB (agent)', { 'xmpp.message': ['1'], 'xmpp.from': [AGENT], 'xmpp.to': [BGP_PEER_JID] });

  send(true, { kind: 'stream-close' }, 'stream close (agent)', { 'xmpp.stream_end': ['1'] });
  send(false, { kind: 'stream-close' }, 'stream close (control node)', { 'xmpp.stream_end': ['1'] });
  tcp.close('XMPP');
}
