/**
 * Config pushed to agents over XMPP (dialect notes 5 steps 5-7, 8.1, 15) through a whole
 * control node on loopback with the book lab: a scripted agent (the notes' literal XML) gets
 * its vrouter's view on subscribing and the differences on REST changes; a bad subscription
 * gets a stream error; weft's own client merges the IQs into the view the CN computes, keeps it
 * across a reconnect and drops what the new session did not resend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_NODE_JID,
  XmppFramer,
  applyConfigChange,
  decodeConfigIq,
  decodeFrame,
  type ConfigChange,
  type ConfigIq,
} from '../../../codecs/xmpp/index.js';
import { XmppClientAdapter, type ClientEvent } from '../../../src/agent/client-adapter.js';
import { AgentXmppClient } from '../../../src/agent/xmpp-client.js';
import { emptyAgentView, type AgentView } from '../../../src/config/agent-view.js';
import { agentViewOf } from '../../../src/control/agent-config.js';
import { loadControlModel, type ControlModel } from '../../../src/control/config-model.js';
import { ControlNode } from '../../../src/control/node.js';
import { publishPair, subscribeIq } from '../../unit/control/doc-stanzas.js';
import { modelOnLoopback } from '../../support/lab-model.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const HOST = '127.0.0.1';
const D = 'default-domain:k8s-default';
const POD_VN = `${D}:k8s-default-pod-network`;
const POD_RI = `${POD_VN}:k8s-default-pod-network`;
const POOL = 'default-domain:k8s-ns-user-1:vn-ns-default:pool-ns-default';
const CLIENT_FIP = `${POOL}:client-fip`;
const CLIENT_PORT = `${D}:client-eth0`;
const ISOLATED_1 = 'default-domain:k8s-ns-isolated:isolated-1-eth0';


/** Section 8.1's subscription as the notes write it. */
function configSubscribeXml(agent: string, node: string, verb = 'subscribe'): string {
  return `<iq type="set" from="${agent}" to="network-control@contrailsystems.com/config">
<pubsub xmlns="http://jabber.org/protocol/pubsub">
<${verb} node="${node}" />
</pubsub>
</iq>`;
}

/** The config IQs a scripted agent received so far, decoded (and their raw text). */
function configIqsOf(a: ScriptedAgent): { iq: ConfigIq; text: string }[] {
  const framer = new XmppFramer();
  const out: { iq: ConfigIq; text: string }[] = [];
  for (const f of framer.push(new TextEncoder().encode(a.text))) {
    if (f.kind !== 'element') continue;
    const s = decodeFrame(f);
    if (s.kind === 'config') out.push({ iq: s, text: f.text });
  }
  return out;
}

function viewFrom(changes: ConfigChange[], vrouter: string): AgentView {
  return changes.reduce((v, c) => applyConfigChange(v, c), emptyAgentView(vrouter, ''));
}

/** Lists compared as sets of objects: the agent appends what is new, the model has its own order. */
function sorted(v: AgentView): AgentView {
  const by = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    vrouter: v.vrouter,
    networks: by(v.networks),
    ports: by(v.ports),
    floatingIps: by(v.floatingIps),
    services: by(v.services),
    tags: by(v.tags),
    firewallPolicies: by(v.firewallPolicies),
    policySets: by(v.policySets),
  };
}

async function rest(node: ControlNode, method: string, path: string, body?: unknown): Promise<number> {
  const r = await fetch(`${node.restUrl}/api/${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  await r.text();
  return r.status;
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('config pushed to agents over XMPP (book lab on loopback)', () => {
  let node: ControlNode;
  let a: ScriptedAgent;
  let bad: ScriptedAgent | undefined;
  let adapter: XmppClientAdapter | undefined;

  beforeAll(async () => {
    node = new ControlNode(modelOnLoopback(await loadControlModel(LAB), HOST), { xmpp: { eorQuietMs: 200, eorRetryMs: 50 } });
    await node.start();
    a = new ScriptedAgent('cent222', HOST, node.xmppPort);
    await a.open();
  });

  afterAll(async () => {
    adapter?.stop();
    for (const x of [a, bad]) x?.socket.destroy();
    await node?.stop();
  });

  it('a config subscription gets the whole view of the vrouter, before the routes, in IQs of the notes\' shape', async () => {
    a.send(configSubscribeXml('cent222', 'virtual-router:default-global-system-config:cent222'));
    // Step 7: VM subscriptions are accepted and ignored (the ports come with the vrouter).
    a.send(configSubscribeXml('cent222', 'virtual-machine:6b9a2c1e-0000-4000-8000-000000000001'));
    a.send(subscribeIq('cent222', POD_RI, 3));
    await a.until('the CN end-of-RIB', () => a.hasEor());
    const got = configIqsOf(a);
    const expected = agentViewOf(node.model, 'cent222');
    expect(got.length).toBeGreaterThan(0);
    for (const { iq, text } of got) {
      expect(text.startsWith('<?xml version="1.0"?><iq type="set"')).toBe(true);
      expect(iq).toMatchObject({ type: 'set', from: CONTROL_NODE_JID, to: 'default-global-system-config:cent222/config' });
      const c = decodeConfigIq(iq);
      expect(c.update.length + c.delete.length).toBeLessThanOrEqual(64);
    }
    expect(viewFrom(got.map((g) => decodeConfigIq(g.iq)), 'cent222')).toEqual(expected);
    expect(expected.ports.map((p) => p.name)).toContain(`${D}:webserver-1-eth0`);
    // All of it before the first route message.
    const lastIq = a.text.lastIndexOf('</iq>');
    expect(lastIq).toBeGreaterThan(0);
    expect(a.text.indexOf('<message')).toBeGreaterThan(lastIq);
    expect(a.closed).toBe(false);
  });

  it('a REST PUT binding a floating IP sends that FIP as an update; the DELETE sends a delete; other vrouters get nothing', async () => {
    const b = new ScriptedAgent('cent333', HOST, node.xmppPort);
    try {
      await b.open();
      b.send(configSubscribeXml('cent333', 'virtual-router:default-global-system-config:cent333'));
      await b.until('cent333 view', () => configIqsOf(b).length > 0);
      const bInitial = configIqsOf(b).length;
      const before = configIqsOf(a).length;

      const fip = { name: CLIENT_FIP, address: '203.0.113.3', ports: [CLIENT_PORT] };
      expect(await rest(node, 'PUT', `floating-ips/${encodeURIComponent(CLIENT_FIP)}`, fip)).toBe(200);
      await a.until('the FIP update', () => configIqsOf(a).length > before);
      const up = decodeConfigIq(configIqsOf(a)[before]!.iq);
      expect(up).toEqual({
        update: [
          {
            type: 'floating-ip',
            value: {
              name: CLIENT_FIP,
              address: '203.0.113.3',
              network: 'default-domain:k8s-ns-user-1:vn-ns-default',
              instance: 'default-domain:k8s-ns-user-1:vn-ns-default:vn-ns-default',
              ports: [CLIENT_PORT],
              portMap: [],
            },
          },
        ],
        delete: [],
      });
      expect(configIqsOf(a)[before]!.text).toContain(`<node type="floating-ip"><name>${CLIENT_FIP}</name><address>203.0.113.3</address>`);

      expect(await rest(node, 'DELETE', `floating-ips/${encodeURIComponent(CLIENT_FIP)}`)).toBe(200);
      await a.until('the FIP delete', () => configIqsOf(a).length > before + 1);
      const del = configIqsOf(a)[before + 1]!;
      expect(decodeConfigIq(del.iq)).toEqual({ update: [], delete: [{ type: 'floating-ip', name: CLIENT_FIP }] });
      expect(del.text).toContain(`<delete><node type="floating-ip"><name>${CLIENT_FIP}</name></node></delete>`);

      // A change every vrouter sees (tags go to all): cent333's next IQ is that one, so the FIP sent it nothing.
      expect(await rest(node, 'POST', 'tags', { name: 'tier=frontend' })).toBe(201);
      await b.until('the tag at cent333', () => configIqsOf(b).length > bInitial);
      await a.until('the tag at cent222', () => configIqsOf(a).length > before + 2);
      const tagChange = decodeConfigIq(configIqsOf(b)[bInitial]!.iq);
      expect(tagChange.update.map((n) => `${n.type} ${n.value.name}`)).toEqual(['tag tier=frontend']);
      expect(tagChange.update[0]!.value).toEqual({ name: 'tier=frontend', id: (2 << 16) | 1 });
      expect(configIqsOf(b).length).toBe(bInitial + 1);
      // Both agents' merged views are the model's.
      expect(sorted(viewFrom(configIqsOf(a).map((g) => decodeConfigIq(g.iq)), 'cent222'))).toEqual(sorted(agentViewOf(node.model, 'cent222')));
      expect(sorted(viewFrom(configIqsOf(b).map((g) => decodeConfigIq(g.iq)), 'cent333'))).toEqual(sorted(agentViewOf(node.model, 'cent333')));
    } finally {
      b.socket.destroy();
    }
  });

  it('a malformed config subscription gets a bad-format stream error and only that session closes', async () => {
    bad = new ScriptedAgent('compute-x', HOST, node.xmppPort);
    await bad.open();
    bad.send(configSubscribeXml('compute-x', 'virtual-router:compute-x'));
    await bad.until('the stream error', () => bad!.closed);
    expect(bad.text).toMatch(/<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text [^>]*>iq\.pubsub\.subscribe@node[^<]*virtual-router:default-global-system-config:&lt;vrouter&gt;/);
    expect(bad.text.endsWith('</stream:stream>')).toBe(true);
    expect(bad.text).not.toContain('/config"><config>');
    const before = configIqsOf(a).length;
    expect(await rest(node, 'DELETE', `tags/${encodeURIComponent('tier=frontend')}`)).toBe(200);
    await a.until('cent222 still served', () => configIqsOf(a).length > before);
    expect(a.closed).toBe(false);
  });

  it('weft\'s client receives config events with the view, alongside routes, and keeps it right across a reconnect', async () => {
    // cent333's scripted session of the test above must be gone at the CN (else: conflict).
    await until('the scripted cent333 gone', () => !node.xmpp.agentNames().includes('cent333'));
    const events: ClientEvent[] = [];
    const client = new AgentXmppClient({ agent: 'cent333', vhostIp: '127.0.0.72', eorRxFallbackMs: 5_000 });
    client.subscribe(POD_RI, 4);
    adapter = new XmppClientAdapter(client, { host: HOST, port: node.xmppPort }, (e) => events.push(e));
    const lastView = () => [...events].reverse().find((e): e is Extract<ClientEvent, { type: 'config' }> => e.type === 'config')?.view;
    const matches = () => {
      const v = lastView();
      return v !== undefined && JSON.stringify(sorted(v)) === JSON.stringify(sorted(agentViewOf(node.model, 'cent333')));
    };
    adapter.start();
    await until('the whole view of cent333', matches);
    expect(lastView()).toEqual(agentViewOf(node.model, 'cent333'));
    expect(client.configView).toBe(lastView());
    // Routes flow as before: cent222's pod route reaches cent333's pod VRF.
    a.send(publishPair({ agent: 'cent222', vrf: POD_RI, prefix: '10.47.255.238/32', nextHop: '127.0.0.1', label: 40 }));
    await until('the route of cent222', () =>
      events.some((e) => e.type === 'routes' && e.events.some((r) => r.kind === 'update' && r.route.prefix === '10.47.255.238/32')),
    );
    expect(events.findIndex((e) => e.type === 'config')).toBeLessThan(events.findIndex((e) => e.type === 'routes'));

    // A live change: webserver-2 becomes the active path (local preference 200).
    const web2 = (await loadControlModel(LAB)).ports.find((p) => p.name === `${D}:webserver-2-eth0`)!;
    const body = { name: web2.name, network: web2.network, mac: web2.mac, ips: web2.ips, vrouter: 'cent333', pod: web2.pod, tags: web2.tags, 'local-preference': 200 };
    const seen = events.length;
    expect(await rest(node, 'PUT', `ports/${encodeURIComponent(web2.name)}`, body)).toBe(200);
    await until('the port change', () => events.length > seen && matches());
    expect(lastView()!.ports.find((p) => p.name === web2.name)!.localPreference).toBe(200);
    expect(events.slice(seen).filter((e) => e.type === 'config')).toHaveLength(1);

    // Away, a port of cent333 is deleted; back, the view is the model's again once the CN's EoR came.
    adapter.stop();
    await until('cent333 gone at the CN', () => !node.xmpp.agentNames().includes('cent333'));
    expect(await rest(node, 'DELETE', `ports/${encodeURIComponent(ISOLATED_1)}`)).toBe(200);
    const away = events.length;
    adapter.start();
    await until('the view after the reconnect', () => events.length > away && matches(), 15_000);
    expect(events.slice(away).some((e) => e.type === 'sweep-stale')).toBe(true);
    const after = lastView()!;
    expect(after.ports.map((p) => p.name)).not.toContain(ISOLATED_1);
    expect(sorted(after)).toEqual(sorted(agentViewOf(node.model, 'cent333')));
    // While the new session resent, nothing already held went missing.
    for (const e of events.slice(away)) {
      if (e.type !== 'config' || e === events[events.length - 1]) continue;
      if (e.view === after) continue;
      expect(e.view.ports.map((p) => p.name)).toContain(`${D}:webserver-2-eth0`);
    }
  });
});
