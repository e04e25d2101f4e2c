/**
 * Agent stanzas copied from the dialect notes (../shared/docs/contrail-xmpp-dialect.md):
 * header 3.1, subscribe 8.2, publish + collection 8.3 with the entry of 7.1, EoR 8.5. Only
 * names, addresses and labels are parameters, so tests can play several agents.
 */

export const DOC_AGENT_HEADER =
  '<stream:stream from="compute-1" to="network-control@contrailsystems.com" version="1.0" xml:lang="en" xmlns="" xmlns:stream="http://etherx.jabber.org/streams" >';

/** Section 3.1, the CN's answer, with `from` = the CN's hostname. */
export const DOC_CN_HEADER =
  '<stream:stream from="cn-host-1" to="compute-1" id="++123" version="1.0" xml:lang="en" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" >';

export function agentHeader(agent: string): string {
  return DOC_AGENT_HEADER.replace('compute-1', agent);
}

export function subscribeIq(agent: string, vrf: string, instanceId: number | undefined, verb = 'subscribe'): string {
  const options = instanceId === undefined ? '' : `\n<options>\n<instance-id>${instanceId}</instance-id>\n</options>`;
  return `<iq type="set" from="${agent}" to="network-control@contrailsystems.com/bgp-peer" id="subscribe7">
<pubsub xmlns="http://jabber.org/protocol/pubsub">
<${verb} node="${vrf}">${options}
</${verb}>
</pubsub>
</iq>`;
}

export interface DocRoute {
  agent: string;
  vrf: string;
  prefix: string;
  nextHop: string;
  label: number;
  localPref?: number;
  /** Override the node's afi/safi part. */
  family?: string;
  /** Override the whole next-hops element. */
  nextHops?: string;
  sg?: number;
}

export function entry(r: DocRoute): string {
  const nh =
    r.nextHops ??
    `<next-hops><next-hop><af>1</af><address>${r.nextHop}</address><mac>52:54:00:12:34:56</mac><label>${r.label}</label><vni>0</vni>
<tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation><tunnel-encapsulation>udp</tunnel-encapsulation></tunnel-encapsulation-list>
<virtual-network>default-domain:admin:vn1</virtual-network><tag-list/></next-hop></next-hops>`;
  return `<entry>
<nlri><af>1</af><safi>1</safi><address>${r.prefix}</address></nlri>
${nh}
<version>1</version><virtual-network></virtual-network><mobility sticky="false" seqno="0"/><sequence-number>0</sequence-number>
<security-group-list><security-group>${r.sg ?? 8000002}</security-group></security-group-list><community-tag-list/>
<local-preference>${r.localPref ?? 200}</local-preference><med>0</med>
<load-balance><load-balance-fields/><load-balance-decision>field-hash</load-balance-decision></load-balance>
<sub-protocol>interface</sub-protocol>
</entry>`;
}

export function publishNodeOf(r: DocRoute): string {
  return `${r.family ?? '1/1'}/${r.vrf}/${r.prefix}`;
}

export function publishIq(r: DocRoute): string {
  return `<iq type="set" from="${r.agent}" to="network-control@contrailsystems.com/bgp-peer" id="pubsub12">
<pubsub xmlns="http://jabber.org/protocol/pubsub">
<publish node="${publishNodeOf(r)}">
<item>
${entry(r)}
</item>
</publish>
</pubsub>
</iq>`;
}

export function collectionIq(agent: string, vrf: string, node: string, verb = 'associate'): string {
  return `<iq type="set" from="${agent}" to="network-control@contrailsystems.com/bgp-peer" id="collection12">
<pubsub xmlns="http://jabber.org/protocol/pubsub">
<collection node="${vrf}">
<${verb} node="${node}" />
</collection>
</pubsub>
</iq>`;
}

export function publishPair(r: DocRoute, verb = 'associate'): string {
  return publishIq(r) + collectionIq(r.agent, r.vrf, publishNodeOf(r), verb);
}

export function agentEorMessage(agent: string): string {
  return `<message from="${agent}" to="network-control@contrailsystems.com/bgp-peer">
	<event xmlns="http://jabber.org/protocol/pubsub">
<items node="0/0/EndOfRib"></items>
	</event>
</message>`;
}

/** Element names of an element's children, in order, found by a depth-counting tag scan. */
export function childNames(xml: string, parentStart: number): string[] {
  const names: string[] = [];
  let depth = 0;
  const re = /<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>/g;
  re.lastIndex = parentStart;
  let first = true;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const [, close, name, self] = m;
    if (first) {
      first = false;
      continue; // the parent's own start tag
    }
    if (close) {
      if (depth === 0) break;
      depth--;
      continue;
    }
    if (depth === 0) names.push(name!);
    if (!self) depth++;
  }
  return names;
}

/** Section 7.1's element order of an inet entry. */
export const INET_ENTRY_ORDER = [
  'nlri',
  'next-hops',
  'version',
  'virtual-network',
  'mobility',
  'sequence-number',
  'security-group-list',
  'community-tag-list',
  'local-preference',
  'med',
  'load-balance',
  'sub-protocol',
];

/** Section 7.1's element order of a next-hop. */
export const INET_NEXT_HOP_ORDER = ['af', 'address', 'mac', 'label', 'vni', 'tunnel-encapsulation-list', 'virtual-network', 'tag-list'];
