import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import {
  XmppFramer,
  canonicalXml,
  decodeEntry,
  decodeFrame,
  decodeStanza,
  decodeStreamOpen,
  encodeEntry,
  encodeStanza,
  evpnNlri,
  evpnRouteType,
  parseXml,
  streamError,
  streamErrorFor,
  type UnicastEntry,
} from '../../../codecs/xmpp/index.js';

function err(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('no error');
}

const PUBLISH = (entry: string) =>
  `<iq type="set" from="compute-1" to="network-control@contrailsystems.com/bgp-peer" id="pubsub1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="1/1/vrf/10.1.1.3/32"><item>${entry}</item></publish></pubsub></iq>`;

describe('item entries decode as the generated C++ parsers do', () => {
  it('ignores element order, defaults missing elements, reads strtoul-style integers and exact booleans', () => {
    const e = decodeEntry(
      parseXml(
        '<entry><med> 7 </med><next-hops><next-hop><label></label><address>10.0.0.11</address></next-hop></next-hops><nlri><address>10.1.1.3/32</address><safi>1</safi><af>1</af></nlri></entry>',
      ),
      'unicast',
    ) as UnicastEntry;
    expect(e.nlri).toEqual({ af: 1, safi: 1, address: '10.1.1.3/32' });
    expect(e.med).toBe(7);
    expect(e.nextHops[0]).toMatchObject({ address: '10.0.0.11', label: 0, tunnelEncapsulation: [], tags: [] });
    expect(e.subProtocol).toBe('interface');
    expect(e.loadBalance.decision).toBe('field-hash');
    const evpn = decodeEntry(parseXml('<entry><etree-leaf>True</etree-leaf><edge-replication-not-supported>true</edge-replication-not-supported></entry>'), 'evpn');
    expect(evpn).toMatchObject({ etreeLeaf: false, edgeReplicationNotSupported: true });
  });

  it('keeps unknown elements and writes them after the known ones', () => {
    const el = parseXml(
      '<entry><nlri><af>1</af><safi>1</safi><address>1.2.3.4/32</address></nlri><next-hops><next-hop><af>1</af><local-sequence-number>9</local-sequence-number></next-hop></next-hops><x-new a="1">v</x-new></entry>',
    );
    const e = decodeEntry(el, 'unicast') as UnicastEntry;
    expect(e.unknown).toEqual([{ name: 'x-new', attrs: { a: '1' }, children: ['v'] }]);
    expect(e.nextHops[0]!.unknown).toEqual([{ name: 'local-sequence-number', attrs: {}, children: ['9'] }]);
    const out = canonicalXml(encodeEntry(e));
    expect(out.endsWith('<sub-protocol>interface</sub-protocol><x-new a="1">v</x-new></entry>')).toBe(true);
    expect(out).toContain('<tag-list></tag-list><local-sequence-number>9</local-sequence-number></next-hop>');
  });

  it('names the failing field with its path and the offset of its element', () => {
    const text = PUBLISH('<entry><next-hops><next-hop><label>25</label></next-hop><next-hop><label>x1</label></next-hop></next-hops></entry>');
    const e = err(() => decodeStanza(parseXml(text)));
    expect(e.field).toBe('iq.pubsub.publish.item.entry.next-hops.next-hop[1].label');
    expect(e.offset).toBe(text.indexOf('<label>x1'));
    expect(err(() => decodeStanza(parseXml(PUBLISH('<entry><med>4294967296</med></entry>')))).field).toBe('iq.pubsub.publish.item.entry.med');
    expect(err(() => decodeStanza(parseXml(PUBLISH('<entry><med><b/></med></entry>')))).reason).toBe('expected text, found child elements');
    expect(err(() => decodeStanza(parseXml(PUBLISH('')))).field).toBe('iq.pubsub.publish.item');
    const msg =
      '<message><event xmlns="http://jabber.org/protocol/pubsub"><items node="25/242/vrf"><item id="a"><entry/></item><item id="b"><entry><mobility seqno="z"/></entry></item></items></event></message>';
    expect(err(() => decodeStanza(parseXml(msg))).field).toBe('message.event.items.item[1].entry.mobility@seqno');
  });

  it('turns frame errors into stream byte offsets and stream errors', () => {
    const bytes = new TextEncoder().encode(`<message to="é">${'<x/>'.repeat(2)}<y>&nope;</y></message>`);
    const [frame] = new XmppFramer().push(bytes);
    const e = err(() => decodeFrame({ ...frame!, offset: 100 }));
    expect(e.offset).toBe(100 + bytes.indexOf(0x26)); // the '&', counted in bytes (é is two)
    expect(streamErrorFor(e).condition).toBe('not-well-formed');
    expect(streamErrorFor(new DecodeError('xmpp.framer', 0, 'unit larger than 10 bytes')).condition).toBe('policy-violation');
    expect(streamErrorFor(new DecodeError('xml', 0, 'DTDs are not allowed')).condition).toBe('restricted-xml');
    expect(streamErrorFor(new DecodeError('iq.pubsub.subscribe@node', 0, 'missing')).condition).toBe('bad-format');
  });
});

describe('stanzas', () => {
  it('reads options beside the subscribe as the CN test mock writes them, and writes them back there', () => {
    const text =
      '<iq type="set" from="a" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="vrf"/><options><instance-id>4</instance-id><no-ribout>true</no-ribout></options></pubsub></iq>';
    const s = decodeStanza(parseXml(text));
    expect(s).toEqual({ kind: 'subscribe', type: 'set', from: 'a', to: 'network-control@contrailsystems.com/bgp-peer', node: 'vrf', instanceId: 4, noRibout: true, optionsPlacement: 'sibling' });
    expect(encodeStanza(s)).toBe(text);
  });

  it('refuses an instance-id that is not a number, and a stream header without the streams namespace', () => {
    const text =
      '<iq type="set"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="vrf"><options><instance-id>-1</instance-id></options></subscribe></pubsub></iq>';
    expect(err(() => decodeStanza(parseXml(text))).field).toBe('iq.pubsub.subscribe.options.instance-id');
    expect(err(() => decodeStreamOpen('<stream:stream from="a" >')).field).toBe('stream@xmlns:stream');
  });

  it('writes stream errors with RFC 6120 namespaces and reads unknown conditions as undefined-condition', () => {
    const s = streamError('not-well-formed', 'a < b');
    const text = encodeStanza(s);
    expect(text).toBe(
      '<stream:error><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams">a &lt; b</text></stream:error>',
    );
    expect(decodeStanza(parseXml(text))).toEqual(s);
    expect(decodeStanza(parseXml('<stream:error><weird xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>'))).toEqual({
      kind: 'stream-error',
      condition: 'undefined-condition',
    });
  });

  it('keeps a publish with an unknown family as raw XML', () => {
    const text =
      '<iq type="set"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="1/5/vrf/224.1.1.1"><item><entry><nlri><route-type>7</route-type></nlri></entry></item></publish></pubsub></iq>';
    const s = decodeStanza(parseXml(text));
    expect(s).toMatchObject({ kind: 'publish', items: [{ entry: { schema: 'raw' } }] });
    expect(canonicalXml(parseXml(encodeStanza(s)))).toBe(canonicalXml(parseXml(text)));
  });

  it('derives EVPN route types from the NLRI', () => {
    expect(evpnRouteType(evpnNlri({ mac: '02:00:00:00:00:01', address: '10.1.1.3/32' }))).toBe(2);
    expect(evpnRouteType(evpnNlri({ mac: 'ff:ff:ff:ff:ff:ff', address: '0.0.0.0/32' }))).toBe(3);
    expect(evpnRouteType(evpnNlri({ mac: '00:00:00:00:00:00', address: '10.1.0.0/16' }))).toBe(5);
    expect(evpnRouteType(evpnNlri({ mac: '02:00:00:00:00:01', group: '239.1.1.1' }))).toBe(6);
  });
});
