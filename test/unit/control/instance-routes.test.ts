import { describe, expect, it } from 'vitest';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { medFromLocalPref } from '../../../src/control/agent-path.js';
import { canonicalPrefix, routeItem } from '../../../src/control/xmpp/agent-route.js';
import type { AgentRoute, RouteSubscriber, RouteUpdate, UnicastFamily } from '../../../src/control/route-hub.js';
import { xmppSource } from '../../../src/rib/path.js';

const VRF = 'default-domain:admin:vn1:vn1';

function route(prefix: string, nextHop: string, label: number, localPreference = 100): AgentRoute {
  return {
    prefix,
    nextHop,
    label,
    encapsulations: ['gre', 'udp'],
    mac: '',
    tags: [],
    localPreference,
    med: 0,
    securityGroups: [],
    communityTags: [],
    sequenceNumber: 0,
    sticky: false,
    loadBalance: { fields: [], decision: 'field-hash' },
    subProtocol: 'interface',
  };
}

class Recorder implements RouteSubscriber {
  got: { instance: string; family: UnicastFamily; updates: readonly RouteUpdate[] }[] = [];
  constructor(readonly source = xmppSource('compute-3', '10.0.0.13')) {}
  routes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[]): void {
    this.got.push({ instance, family, updates });
  }
  /** prefix -> next hops of the latest update. */
  view(): Record<string, string[]> {
    const v: Record<string, string[]> = {};
    for (const g of this.got) for (const u of g.updates) v[u.prefix] = u.ecmp.map((p) => `${p.attrs.nextHop}/${p.labels?.[0]}`);
    return v;
  }
}

const a1 = xmppSource('compute-1', '10.0.0.11');
const a2 = xmppSource('compute-2', '10.0.0.12');

describe('InstanceRouteHub', () => {
  it('tells nobody about a prefix that is back where it was at the last flush', () => {
    const hub = new InstanceRouteHub();
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 25));
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 3 });
    const dump = r.got.length;
    // A publish and its withdrawal in one burst (a session that published, then failed).
    hub.publish(a2, VRF, 'inet', route('10.1.1.9/32', '10.0.0.12', 40));
    hub.withdraw(a2, VRF, 'inet', '10.1.1.9/32');
    // A second path that comes and goes leaves the first prefix's selection as it was.
    hub.publish(a2, VRF, 'inet', route('10.1.1.3/32', '10.0.0.12', 41));
    hub.withdraw(a2, VRF, 'inet', '10.1.1.3/32');
    hub.flush();
    expect(r.got.length).toBe(dump);
    // A real change in the same kind of burst still goes out, alone.
    hub.publish(a2, VRF, 'inet', route('10.1.1.9/32', '10.0.0.12', 40));
    hub.withdraw(a2, VRF, 'inet', '10.1.1.9/32');
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 26));
    hub.flush();
    expect(r.got.slice(dump).map((g) => g.updates.map((u) => u.prefix))).toEqual([['10.1.1.3/32']]);
    expect(r.view()['10.1.1.3/32']).toEqual(['10.0.0.11/26']);
  });

  it('gives a subscriber the current routes, then coalesced changes at flush', () => {
    const hub = new InstanceRouteHub();
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 25));
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 3 });
    expect(r.view()).toEqual({ '10.1.1.3/32': ['10.0.0.11/25'] });
    hub.publish(a1, VRF, 'inet', route('10.1.1.4/32', '10.0.0.11', 26));
    hub.publish(a1, VRF, 'inet', route('10.1.1.4/32', '10.0.0.11', 27));
    expect(r.got.length).toBe(1);
    hub.flush();
    expect(r.got.length).toBe(2);
    expect(r.got[1]!.updates.map((u) => u.prefix)).toEqual(['10.1.1.4/32']);
    expect(r.view()['10.1.1.4/32']).toEqual(['10.0.0.11/27']);
    expect(hub.instanceIdOf('compute-3', VRF)).toBe(3);
  });

  it('forms ECMP from two agents and sends one item with two next hops', () => {
    const hub = new InstanceRouteHub();
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 1 });
    hub.publish(a2, VRF, 'inet', route('10.1.1.100/32', '10.0.0.12', 40));
    hub.publish(a1, VRF, 'inet', route('10.1.1.100/32', '10.0.0.11', 30));
    hub.flush();
    // Router-id tie-break orders them: lower address first.
    expect(r.view()['10.1.1.100/32']).toEqual(['10.0.0.11/30', '10.0.0.12/40']);
    const u = r.got.at(-1)!.updates[0]!;
    const item = routeItem('inet', VRF, u);
    expect(item.id).toBe('10.1.1.100/32');
    expect(item.entry.schema === 'unicast' && item.entry.nextHops.map((n) => [n.address, n.label])).toEqual([
      ['10.0.0.11', 30],
      ['10.0.0.12', 40],
    ]);
  });

  it('prefers local-pref 200, and the 100 path appears when it is withdrawn', () => {
    const hub = new InstanceRouteHub();
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 1 });
    hub.publish(a1, VRF, 'inet', route('10.9.9.9/32', '10.0.0.11', 30, 200));
    hub.publish(a2, VRF, 'inet', route('10.9.9.9/32', '10.0.0.12', 40, 100));
    hub.flush();
    expect(r.view()['10.9.9.9/32']).toEqual(['10.0.0.11/30']);
    const best = hub.table(VRF, 'inet').get('10.9.9.9/32')!.best!;
    expect([best.attrs.localPref, best.attrs.med]).toEqual([200, 100]);
    hub.withdraw(a1, VRF, 'inet', '10.9.9.9/32');
    hub.flush();
    expect(r.view()['10.9.9.9/32']).toEqual(['10.0.0.12/40']);
    hub.withdraw(a2, VRF, 'inet', '10.9.9.9/32');
    hub.flush();
    expect(r.view()['10.9.9.9/32']).toEqual([]);
  });

  it('removes a departed agent\'s paths, or keeps them stale until re-publish and EoR', () => {
    const hub = new InstanceRouteHub();
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 1 });
    const agent = new Recorder(a1);
    hub.subscribe(agent, VRF, { instanceId: 3 });
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 25));
    hub.publish(a1, VRF, 'inet', route('10.1.1.5/32', '10.0.0.11', 26));
    hub.flush();
    hub.agentDown(agent, true);
    hub.flush();
    expect(hub.table(VRF, 'inet').get('10.1.1.3/32')!.best!.stale).toBe(true);
    expect(r.view()).toEqual({ '10.1.1.3/32': ['10.0.0.11/25'], '10.1.1.5/32': ['10.0.0.11/26'] });
    // Back: re-publishes one of the two, then EoR sweeps the other.
    const again = new Recorder(a1);
    hub.subscribe(again, VRF, { instanceId: 3 });
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 25));
    hub.endOfRib(a1);
    hub.flush();
    expect(r.view()).toEqual({ '10.1.1.3/32': ['10.0.0.11/25'], '10.1.1.5/32': [] });
    expect(hub.table(VRF, 'inet').get('10.1.1.3/32')!.best!.stale).toBe(false);
    hub.agentDown(again, false);
    hub.flush();
    expect(r.view()['10.1.1.3/32']).toEqual([]);
    expect(hub.instanceIdOf('compute-1', VRF)).toBeUndefined();
  });

  it('sends nothing to a no-ribout subscriber', () => {
    const hub = new InstanceRouteHub();
    hub.publish(a1, VRF, 'inet', route('10.1.1.3/32', '10.0.0.11', 25));
    const r = new Recorder();
    hub.subscribe(r, VRF, { instanceId: 1, noRibout: true });
    hub.publish(a2, VRF, 'inet', route('10.1.1.4/32', '10.0.0.12', 25));
    hub.flush();
    expect(r.got).toEqual([]);
  });
});

describe('agent route helpers', () => {
  it('derives MED from local preference as section 9.1 says', () => {
    expect([100, 200, 150, 0].map(medFromLocalPref)).toEqual([200, 100, 0xffffffff - 150, undefined]);
  });

  it('canonicalises prefixes and refuses malformed ones', () => {
    expect(canonicalPrefix('inet', '10.1.1.3/24')).toBe('10.1.1.0/24');
    expect(canonicalPrefix('inet6', 'FD00:0:0::3/128')).toBe('fd00::3/128');
    for (const bad of ['10.1.1.3', '10.1.1.3/33', '10.1.1/24', '10.1.1.3/x', '/8', '10.1.1.3/']) {
      expect(canonicalPrefix('inet', bad)).toBeUndefined();
    }
  });
});
