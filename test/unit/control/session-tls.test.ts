/**
 * Dialect notes 3.2 on both sans-IO cores, with a fake clock and no sockets: the control
 * node's AgentSession with `requireTls` and the agent's AgentXmppClient with `tls`, the
 * handshake itself stood in for by `tlsEstablished` / `tlsFailed`. Then the two cores talk to
 * each other through their actions.
 */
import { describe, expect, it } from 'vitest';
import { AgentXmppClient, type ClientAction } from '../../../src/agent/xmpp-client.js';
import { AgentSession, type SessionAction } from '../../../src/control/xmpp/session.js';
import { DOC_AGENT_HEADER, DOC_CN_HEADER, subscribeIq } from './doc-stanzas.js';

const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const FEATURES = `<?xml version="1.0"?><stream:features><starttls xmlns="${TLS_NS}"><required/></starttls></stream:features>`;
const STARTTLS = `<starttls xmlns="${TLS_NS}"/>`;
const PROCEED = `<proceed xmlns="${TLS_NS}"/>`;
const enc = new TextEncoder();
const dec = new TextDecoder();

function sent(actions: readonly (SessionAction | ClientAction)[]): string {
  return actions.map((a) => (a.type === 'send' ? dec.decode(a.bytes) : '')).join('');
}

function types(actions: readonly (SessionAction | ClientAction)[]): string[] {
  return actions.map((a) => a.type);
}

function tlsSession() {
  const s = new AgentSession({ serverHost: 'cn-host-1', requireTls: true });
  const start = s.start(0);
  const feed = (xml: string, t = 0) => s.receive(enc.encode(xml), t);
  return { s, start, feed };
}

describe('control node session with TLS required (section 3.2)', () => {
  it('header, features with <required/>, <starttls/>, <proceed/> + start-tls, then the header again over TLS', () => {
    const { s, start, feed } = tlsSession();
    expect(start).toEqual([{ type: 'arm-timer', timer: 'open', ms: 15_000 }]);
    const first = feed(DOC_AGENT_HEADER);
    expect(sent(first)).toBe(DOC_CN_HEADER + FEATURES);
    // Not Established yet: no hold, keepalive or route machinery, the open timer keeps running.
    expect(types(first)).toEqual(['send', 'send']);
    expect(s.state).toBe('await-starttls');
    expect(s.agent).toBe('compute-1');
    // Whitespace is a keepalive, not a stanza: allowed.
    expect(feed(' ')).toEqual([]);
    const proceed = feed(STARTTLS);
    expect(proceed).toEqual([{ type: 'send', bytes: enc.encode(PROCEED) }, { type: 'start-tls' }]);
    expect(s.state).toBe('tls-handshake');
    // Plain bytes during the handshake are the adapter's mistake, not the stream: ignored.
    expect(feed('<iq/>')).toEqual([]);
    expect(s.tlsEstablished(5)).toEqual([]);
    expect(s.tls).toBe(true);
    const second = feed(DOC_AGENT_HEADER, 6);
    expect(sent(second)).toBe(DOC_CN_HEADER);
    expect(second).toContainEqual({ type: 'cancel-timer', timer: 'open' });
    expect(second).toContainEqual({ type: 'arm-timer', timer: 'hold', ms: 90_000 });
    expect(second.find((a) => a.type === 'established')).toMatchObject({ agent: 'compute-1' });
    expect(s.state).toBe('established');
    const sub = feed(subscribeIq('compute-1', 'default-domain:admin:vn1:vn1', 3));
    expect(sub).toEqual([{ type: 'subscribe', instance: 'default-domain:admin:vn1:vn1', instanceId: 3, noRibout: false }]);
    // A second STARTTLS on a TLS stream breaks policy.
    expect(feed(STARTTLS).at(-1)).toMatchObject({ type: 'close', error: { condition: 'policy-violation' } });
  });

  it('anything but <starttls/> after the features: policy-violation, in plain, and closed', () => {
    const { s, feed } = tlsSession();
    feed(DOC_AGENT_HEADER);
    const out = feed(subscribeIq('compute-1', 'default-domain:admin:vn1:vn1', 3));
    expect(sent(out)).toMatch(/^<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams">&lt;iq&gt; before STARTTLS: this control node requires TLS<\/text><\/stream:error><\/stream:stream>$/);
    expect(out.at(-1)).toMatchObject({ type: 'close', reason: 'stream-error', error: { condition: 'policy-violation' } });
    expect(s.state).toBe('closed');
  });

  it('a stanza behind <starttls/> in the same bytes (not waiting for <proceed/>): refused, no proceed', () => {
    const { feed } = tlsSession();
    feed(DOC_AGENT_HEADER);
    const out = feed(STARTTLS + subscribeIq('compute-1', 'default-domain:admin:vn1:vn1', 3));
    expect(sent(out)).not.toContain('<proceed');
    expect(types(out)).not.toContain('start-tls');
    expect(out.at(-1)).toMatchObject({ type: 'close', error: { condition: 'policy-violation' } });
    // Nor TLS bytes sent early: they are not XMPP.
    const t = tlsSession();
    t.feed(DOC_AGENT_HEADER);
    const hello = t.s.receive(Uint8Array.of(...enc.encode(STARTTLS), 0x16, 0x03, 0x01, 0x00), 0);
    expect(types(hello)).not.toContain('start-tls');
    expect(hello.at(-1)).toMatchObject({ type: 'close', error: { condition: 'not-well-formed' } });
  });

  it('the header after TLS must name the same agent', () => {
    const { s, feed } = tlsSession();
    feed(DOC_AGENT_HEADER);
    feed(STARTTLS);
    s.tlsEstablished(1);
    const out = feed(DOC_AGENT_HEADER.replace('compute-1', 'compute-2'));
    // A fresh stream: our header first, then the error.
    expect(sent(out).startsWith('<stream:stream from="cn-host-1" to="compute-1"')).toBe(true);
    expect(out.at(-1)).toMatchObject({ type: 'close', error: { condition: 'invalid-from' } });
  });

  it('a failed handshake closes without a word; the open timer bounds the whole negotiation', () => {
    const a = tlsSession();
    a.feed(DOC_AGENT_HEADER);
    a.feed(STARTTLS);
    expect(a.s.tlsFailed(3, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toEqual([
      { type: 'cancel-timer', timer: 'open' },
      { type: 'close', reason: 'tls-failed', detail: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    ]);
    const b = tlsSession();
    b.feed(DOC_AGENT_HEADER);
    b.feed(STARTTLS);
    // Stuck in the handshake: nothing can be sent in plain any more.
    expect(b.s.timerExpired('open', 15_000)).toEqual([{ type: 'close', reason: 'open-timeout' }]);
    const c = tlsSession();
    c.feed(DOC_AGENT_HEADER);
    expect(sent(c.s.timerExpired('open', 15_000))).toBe('</stream:stream>');
  });

  it('without requireTls <starttls/> is still refused', () => {
    const s = new AgentSession({ serverHost: 'cn-host-1' });
    s.start(0);
    s.receive(enc.encode(DOC_AGENT_HEADER), 0);
    expect(s.receive(enc.encode(STARTTLS), 0).at(-1)).toMatchObject({ type: 'close', error: { condition: 'unsupported-stanza-type' } });
  });
});

function tlsClient(files = { ca: '/etc/weft/ca.pem' }) {
  const c = new AgentXmppClient({ agent: 'compute-1', vhostIp: '10.0.0.11', tls: files, reconnectDelay: () => 1000 });
  c.start(0);
  c.timerExpired('connect', 1000);
  const open = c.connected(1000);
  return { c, open };
}

describe('agent client with tls (section 3.2)', () => {
  it('waits for the features, sends <starttls/>, asks for the handshake on <proceed/>, then opens the stream again', () => {
    const { c, open } = tlsClient();
    expect(sent(open)).toBe(DOC_AGENT_HEADER);
    expect(c.receive(enc.encode(DOC_CN_HEADER), 1001)).toEqual([]);
    expect(c.state).toBe('await-features');
    expect(sent(c.receive(enc.encode(FEATURES), 1002))).toBe(STARTTLS);
    expect(c.state).toBe('await-proceed');
    expect(c.receive(enc.encode(PROCEED), 1003)).toEqual([{ type: 'start-tls', tls: { ca: '/etc/weft/ca.pem' } }]);
    expect(c.state).toBe('tls-handshake');
    expect(sent(c.tlsEstablished(1004))).toBe(DOC_AGENT_HEADER);
    expect(c.tls).toBe(true);
    const est = c.receive(enc.encode(DOC_CN_HEADER), 1005);
    expect(c.state).toBe('established');
    expect(types(est)).toContain('established');
    // Then as in plain: keepalive first, then the config subscription.
    expect(sent(est).startsWith('\u0200<iq type="set" from="compute-1" to="network-control@contrailsystems.com/config">')).toBe(true);
  });

  it('does not fall back to plain when the CN offers no STARTTLS', () => {
    const { c } = tlsClient();
    c.receive(enc.encode(DOC_CN_HEADER), 1001);
    const out = c.receive(enc.encode('<stream:features></stream:features>'), 1002);
    expect(types(out)).toContain('disconnect');
    expect(c.lastFailure).toBe('protocol-error: the control node does not offer STARTTLS');
    expect(c.sessionCount).toBe(0);
    // A plain CN sends no features at all: its end-of-RIB instead is as wrong.
    const d = tlsClient();
    d.c.receive(enc.encode(DOC_CN_HEADER), 1001);
    d.c.receive(enc.encode('<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="0/0/EndOfRib"></items></event></message>'), 1002);
    expect(d.c.lastFailure).toBe('protocol-error: <eor> while negotiating TLS (await-features)');
  });

  it('a TLS failure or the CN closing during negotiation ends the attempt and says why', () => {
    const { c } = tlsClient();
    c.receive(enc.encode(DOC_CN_HEADER + FEATURES + PROCEED), 1001);
    const out = c.tlsFailed(1002, 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate');
    expect(types(out)).toEqual(['cancel-timer', 'disconnect', 'arm-timer']);
    expect(c.state).toBe('connect-wait');
    expect(c.lastFailure).toBe('tls-failed: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate');
    const d = tlsClient();
    d.c.receive(enc.encode(DOC_CN_HEADER + FEATURES + PROCEED), 1001);
    d.c.tlsEstablished(1002);
    d.c.peerClosed(1003);
    expect(d.c.lastFailure).toBe('peer-closed: closed by the control node in await-header over TLS');
    expect(d.c.tls).toBe(false);
  });
});

describe('the two cores through their actions', () => {
  it('negotiate TLS and reach Established on both sides', () => {
    const s = new AgentSession({ serverHost: 'cn-host-1', requireTls: true });
    const c = new AgentXmppClient({ agent: 'compute-1', vhostIp: '10.0.0.11', tls: {}, reconnectDelay: () => 0 });
    s.start(0);
    c.start(0);
    c.timerExpired('connect', 0);
    let toServer = c.connected(0);
    let handshakes = 0;
    for (let i = 0; i < 10 && !(c.established && s.state === 'established'); i++) {
      const toClient: SessionAction[] = [];
      for (const a of toServer) if (a.type === 'send') toClient.push(...s.receive(a.bytes, i));
      if (toClient.some((a) => a.type === 'start-tls')) {
        handshakes++;
        s.tlsEstablished(i);
      }
      toServer = [];
      for (const a of toClient) if (a.type === 'send') toServer.push(...c.receive(a.bytes, i));
      if (toServer.some((a) => a.type === 'start-tls')) toServer.push(...c.tlsEstablished(i));
    }
    expect(handshakes).toBe(1);
    expect(c.established).toBe(true);
    expect(s.state).toBe('established');
    expect(s.tls && c.tls).toBe(true);
  });
});
