import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import {
  canonicalXml,
  escapeAttr,
  escapeText,
  parseOpenTag,
  parseXml,
  parseXmlDocument,
  parseXmlFragment,
  serializeXml,
  xmlOffset,
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

describe('XML subset parser', () => {
  it('reads elements, both quote styles, entities, character references, CDATA; drops comments', () => {
    const el = parseXml(
      `<a x='1"2' y="&lt;&amp;&gt;&quot;&apos;"><b>t&#65;&#x42;&#x1F642;</b><!-- c --><c/><d><![CDATA[<not> &amp;]]>z</d></a>`,
    );
    expect(el).toEqual({
      name: 'a',
      attrs: { x: '1"2', y: `<&>"'` },
      children: [
        { name: 'b', attrs: {}, children: ['tAB🙂'] },
        { name: 'c', attrs: {}, children: [] },
        { name: 'd', attrs: {}, children: ['<not> &amp;z'] },
      ],
    });
  });

  it('keeps prefixed names and namespace declarations as plain names and attributes', () => {
    const t = parseOpenTag('<?xml version="1.0"?>\n<stream:stream xmlns="" xmlns:stream="http://etherx.jabber.org/streams" >');
    expect(t).toEqual({
      declaration: '<?xml version="1.0"?>',
      name: 'stream:stream',
      attrs: { xmlns: '', 'xmlns:stream': 'http://etherx.jabber.org/streams' },
    });
  });

  it('normalises line ends and attribute whitespace as XML 1.0 says', () => {
    const el = parseXml('<a v="x\ty\r\nz">l1\r\nl2\rl3&#13;</a>');
    expect(el.attrs['v']).toBe('x y z');
    expect(el.children).toEqual(['l1\nl2\nl3\r']);
  });

  it('refuses DTDs and so entity expansion (billion laughs, XXE)', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>';
    expect(err(() => parseXml(laughs)).reason).toBe('DTDs are not allowed');
    expect(err(() => parseXml('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>')).reason).toBe('DTDs are not allowed');
    expect(err(() => parseXml('<a>&xxe;</a>')).reason).toBe('undeclared entity &xxe;');
  });

  it('refuses malformed input with the field and offset', () => {
    const cases: [string, string, number][] = [
      ['<a><b></a>', '</a> does not close <b>', 6],
      ['<a x="1" x="2"/>', 'duplicate attribute x', 9],
      ['<a x=1/>', 'attribute x value must be quoted', 5],
      ['<a x="<"/>', '"<" in value of attribute x', 6],
      ['<a>&#0;</a>', 'character reference &#0; is not an XML character', 3],
      ['<a>&#xD800;</a>', 'character reference &#xD800; is not an XML character', 3],
      ['<a>\u0001</a>', 'character U+0001 is not allowed in XML', 3],
      ['<a/><b/>', 'unexpected content after the root element', 4],
      ['<a>', 'missing </a>', 3],
      ['<a x="1"y="2"/>', 'attributes must be separated by whitespace', 8],
      ['<a><?pi x?></a>', 'processing instructions are not allowed', 3],
      ['<a>]]></a>', '"]]>" in text', 3],
      ['<?xml version="1.0" encoding="latin1"?><a/>', 'unsupported encoding latin1', 0],
    ];
    for (const [text, reason, offset] of cases) {
      const e = err(() => parseXml(text));
      expect([e.field, e.reason, e.offset], text).toEqual(['xml', reason, offset]);
    }
  });

  it('keeps an attribute named __proto__ as data', () => {
    const el = parseXml('<iq __proto__="x" id="1"></iq>');
    expect(Object.keys(el.attrs)).toEqual(['__proto__', 'id']);
    expect(Object.getPrototypeOf(el.attrs)).toBe(Object.prototype);
    expect(serializeXml(el)).toBe('<iq __proto__="x" id="1"></iq>');
  });

  it('bounds nesting depth', () => {
    const deep = '<a>'.repeat(200) + '</a>'.repeat(200);
    expect(err(() => parseXml(deep)).reason).toBe('elements nested deeper than 128');
    expect(parseXml(deep, { maxDepth: 300 }).name).toBe('a');
  });

  it('records where each element starts', () => {
    const el = parseXml('<a>\n  <b/></a>');
    expect(xmlOffset(el.children[1] as never)).toBe(6);
  });

  it('serialises with escaping that parses back to the same values', () => {
    const v = `a&b<c>d"e'f\tg\nh\ri]]>j`;
    expect(escapeText(v)).toBe(`a&amp;b&lt;c&gt;d"e'f\tg\nh&#13;i]]&gt;j`);
    expect(escapeAttr(v)).toBe(`a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;h&#13;i]]&gt;j`);
    const el = { name: 'x', attrs: { v }, children: [v] };
    expect(parseXml(serializeXml(el))).toEqual(el);
  });

  it('never self-closes the roots the C++ framer finds by their end tag', () => {
    expect(serializeXml({ name: 'iq', attrs: {}, children: [] })).toBe('<iq></iq>');
    expect(serializeXml({ name: 'items', attrs: { node: '0/0/EndOfRib' }, children: [] })).toBe('<items node="0/0/EndOfRib"></items>');
    expect(serializeXml({ name: 'tag-list', attrs: {}, children: [] })).toBe('<tag-list/>');
  });

  it('canonical form ignores whitespace between elements and empty-element style only', () => {
    const a = parseXml('<a>\n\t<b/>\n\t<c> x </c>\n</a>');
    const b = parseXml('<a><b></b><c> x </c></a>');
    expect(canonicalXml(a)).toBe(canonicalXml(b));
    expect(canonicalXml(parseXml('<a><c>x</c></a>'))).not.toBe(canonicalXml(b));
  });

  it('parses fragments and documents with a declaration', () => {
    expect(parseXmlFragment('<a/>\n<b/>').map((e) => e.name)).toEqual(['a', 'b']);
    expect(parseXmlDocument('<?xml version="1.0"?>\n<a/>').declaration).toBe('<?xml version="1.0"?>');
  });

  it('parses a 10,000-item message', () => {
    // Not timed (speed belongs in benchmarks). An accidental quadratic in the parser (it
    // happened: searching the rest of the text for '&' at every text node) takes minutes here
    // and trips the test timeout.
    const item =
      '<item id="10.1.1.4/32"><entry><nlri><af>1</af><safi>1</safi><address>10.1.1.3/32</address></nlri><next-hops><next-hop><af>1</af><address>10.0.0.11</address><mac></mac><label>25</label><vni>0</vni><tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation></tunnel-encapsulation-list><virtual-network>default-domain:admin:vn1</virtual-network><tag-list/></next-hop></next-hops><version>1</version><virtual-network>default-domain:admin:vn1</virtual-network><mobility sticky="false" seqno="0"/><sequence-number>0</sequence-number><security-group-list><security-group>8000002</security-group></security-group-list><community-tag-list/><local-preference>200</local-preference><med>0</med><load-balance><load-balance-fields/><load-balance-decision>field-hash</load-balance-decision></load-balance><sub-protocol>interface</sub-protocol></entry></item>';
    const el = parseXml(`<items node="1/1/vrf">${item.repeat(10_000)}</items>`);
    expect(el.children).toHaveLength(10_000);
    expect((el.children[9_999] as { attrs: Record<string, string> }).attrs['id']).toBe('10.1.1.4/32');
  });
});
