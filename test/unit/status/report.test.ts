import { describe, expect, it } from 'vitest';
import { agentStatus, controlStatus, makeReport } from '../../../src/status/report.js';
import { AGENT, API, INTROSPECT, MODEL, agent, agentBody, control, neighbors, ok, refused } from './answers.js';

describe('control node', () => {
  it('is active when the BGP neighbour is Established and every vrouter has a session', () => {
    const n = controlStatus(control());
    expect(n).toMatchObject({ pod: 'control', service: 'control', originalName: 'weft control', id: '10.169.25.19', state: 'active' });
    expect(n.reason).toBeUndefined();
    expect(n.status).toBe('Number of connections: 3, Expected: 3 (BGP peers established: 1/1, XMPP agents: 2/2, 9 routing instances)');
    expect(n.control).toEqual({
      introspect: INTROSPECT,
      api: API,
      routerId: '10.169.25.19',
      asn: 64512,
      connections: 3,
      expected: 3,
      missing: [],
      bgp: { established: 1, peers: [{ address: '192.168.0.204', state: 'Established', description: 'camaro' }] },
      xmpp: { agents: ['cent222', 'cent333'], expected: ['cent222', 'cent333'] },
      routingInstances: 9,
    });
  });

  it('is initializing, naming what is missing, when an agent or the BGP peer is down', () => {
    const n = controlStatus(control({ neighbors: ok(neighbors('Active')), sessions: ok([{ agent: 'cent222' }]) }));
    expect(n.state).toBe('initializing');
    expect(n.reason).toBe('Number of connections: 1, Expected: 3 Missing: BGP:192.168.0.204, XMPP:cent333');
    expect(n.status).toBe(`${n.reason} (BGP peers established: 0/1, XMPP agents: 1/2, 9 routing instances)`);
  });

  it('counts an agent the model does not name as a connection, and expects none for it', () => {
    const n = controlStatus(control({ sessions: ok([{ agent: 'cent222' }, { agent: 'cent333' }, { agent: 'stranger' }]) }));
    expect(n.state).toBe('active');
    expect(n.control).toMatchObject({ connections: 4, expected: 3, missing: [] });
  });

  it('is inactive with the reason when neither its introspect nor its API answers', () => {
    const n = controlStatus(control({ neighbors: refused, model: refused, sessions: refused, instances: refused }));
    expect(n).toMatchObject({ id: '-', state: 'inactive', reason: `${INTROSPECT}: connection refused`, status: `${INTROSPECT}: connection refused` });
  });

  it('is initializing when only one of its two APIs answers', () => {
    const a = controlStatus(control({ model: refused, sessions: refused, instances: refused }));
    expect(a.state).toBe('initializing');
    expect(a.control!.missing).toEqual([`API:${API} connection refused`]);
    expect(a.id).toBe('-');
    const b = controlStatus(control({ neighbors: { ok: false, error: 'no answer within 3 s' } }));
    expect(b.control!.missing).toEqual([`Introspect:${INTROSPECT} no answer within 3 s`]);
    expect(b.control!.xmpp!.agents).toHaveLength(2);
  });

  it('says when a node does not list its XMPP sessions (an older weft)', () => {
    const n = controlStatus(control({ sessions: { ok: false, error: "HTTP 404: no object type 'xmpp-sessions'" } }));
    expect(n.state).toBe('initializing');
    expect(n.control!.missing).toEqual(["XMPP:sessions unknown (HTTP 404: no object type 'xmpp-sessions')"]);
  });

  it('takes an answer of the wrong shape as a reason, never an exception', () => {
    for (const body of [null, 42, 'x', {}, [{}], [{ address: 1, state: 'Established' }]]) {
      const n = controlStatus(control({ neighbors: ok(body), model: ok(body), sessions: ok(body), instances: ok(body) }));
      expect(n.state).toBe('initializing');
      expect(n.control!.missing[0]).toBe(`Introspect:${INTROSPECT} unexpected answer`);
    }
    const noVrouters = controlStatus(control({ model: ok({ global: MODEL.global }), sessions: ok([]) }));
    expect(noVrouters).toMatchObject({ state: 'active', control: { expected: 1, connections: 1 } });
  });
});

describe('agent', () => {
  it('is active when its session to each control node is up', () => {
    const n = agentStatus(agent());
    expect(n).toMatchObject({ pod: 'vrouter', service: 'agent', originalName: 'weft agent', id: 'cent222', state: 'active', status: 'XMPP 10.169.25.19:5269 up' });
    expect(n.agent).toEqual({ url: AGENT, vhost: '10.169.25.20', controlNodes: [{ controlNode: '10.169.25.19:5269', up: true, state: 'established', endOfRibReceived: true }] });
  });

  it('says when it still waits for the End-of-RIB', () => {
    expect(agentStatus(agent(agentBody('cent222', 'established', false)))).toMatchObject({ state: 'active', status: 'XMPP 10.169.25.19:5269 up (waiting for End-of-RIB)' });
  });

  it('is initializing with Contrail\'s "connection down" reason when a session is not up', () => {
    const n = agentStatus(agent(agentBody('cent333', 'connect-wait', false)));
    expect(n).toMatchObject({
      id: 'cent333',
      state: 'initializing',
      status: 'XMPP 10.169.25.19:5269 down (connect-wait)',
      reason: 'XMPP:control-node:10.169.25.19:5269 connection down',
    });
  });

  it('is initializing when it has no control node at all', () => {
    expect(agentStatus(agent({ name: 'x', controlNodes: [] }))).toMatchObject({ state: 'initializing', reason: 'no control node configured' });
  });

  it('is inactive with the reason when its API does not answer or answers something else', () => {
    expect(agentStatus({ url: AGENT, status: refused })).toMatchObject({ id: '-', state: 'inactive', reason: `${AGENT}: connection refused` });
    expect(agentStatus(agent({ name: 'x' }))).toMatchObject({ state: 'inactive', reason: `${AGENT}: unexpected answer` });
    expect(agentStatus(agent([1, 2]))).toMatchObject({ state: 'inactive' });
  });
});

describe('report', () => {
  it('is ok only when every node is active, and never when nothing was asked', () => {
    expect(makeReport([controlStatus(control()), agentStatus(agent())]).ok).toBe(true);
    expect(makeReport([controlStatus(control()), agentStatus({ url: AGENT, status: refused })]).ok).toBe(false);
    expect(makeReport([]).ok).toBe(false);
  });
});
