/**
 * Answers recorded from the book's lab (weft lab up, then curl inside weft-control and
 * weft-cent222), shortened to the fields weft status reads plus a few it must ignore, and
 * variations of them: a session down, a daemon not answering, an older node.
 */
import type { AgentAnswers, Answer, ControlAnswers } from '../../../src/status/report.js';

export const INTROSPECT = 'http://127.0.0.1:8083';
export const API = 'http://127.0.0.1:8082';
export const AGENT = 'http://127.0.0.1:8085';

const ok = (body: unknown): Answer => ({ ok: true, body });
export const refused: Answer = { ok: false, error: 'connection refused' };

/** GET /bgp/neighbors: the GoBGP gateway "camaro", Established. */
export function neighbors(state = 'Established'): unknown[] {
  return [
    {
      address: '192.168.0.204',
      remoteAs: 64512,
      rrClient: false,
      passive: false,
      state,
      uptimeSeconds: state === 'Established' ? 76 : undefined,
      received: { open: 1, update: 1, notification: 0, keepalive: 3, 'route-refresh': 0, total: 5 },
      sent: { open: 1, update: 37, notification: 0, keepalive: 3, 'route-refresh': 0, total: 41 },
      prefixesReceived: 1,
      prefixesAdvertised: { vpnv4: 21 },
      description: 'camaro',
    },
  ];
}

/** GET /api/model, the parts weft status reads (the lab's has every section). */
export const MODEL = {
  global: { asn: 64512, 'router-id': '10.169.25.19', bgp: { address: '10.169.25.19', port: 179 }, xmpp: { address: '10.169.25.19', port: 5269 } },
  'virtual-networks': [{ name: 'default-domain:k8s-default:k8s-default-pod-network', id: 5 }],
  'bgp-routers': [{ name: 'camaro', address: '192.168.0.204', asn: 64512 }],
  vrouters: [
    { name: 'cent222', address: '10.169.25.20' },
    { name: 'cent333', address: '10.169.25.21' },
  ],
};

export const INSTANCES = Array.from({ length: 9 }, (_, i) => ({ name: `ri-${i}`, index: i + 5 }));

export function control(over: Partial<ControlAnswers> = {}): ControlAnswers {
  return {
    introspectUrl: INTROSPECT,
    apiUrl: API,
    neighbors: ok(neighbors()),
    model: ok(MODEL),
    sessions: ok([{ agent: 'cent222' }, { agent: 'cent333' }]),
    instances: ok(INSTANCES),
    ...over,
  };
}

/** GET /status of cent222's agent. */
export function agentBody(name = 'cent222', state = 'established', endOfRibReceived = true): unknown {
  return {
    name,
    vhost: name === 'cent222' ? '10.169.25.20' : '10.169.25.21',
    encapsulation: ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'],
    controlNodes: [{ id: '10.169.25.19:5269', address: { host: '10.169.25.19', port: 5269, localAddress: '10.169.25.20' }, state, sessions: 1, endOfRibReceived }],
    udpSourcePorts: [49152, 49153],
    dataplane: { rx: { tap: 444 }, tx: { tap: 360 }, drops: { NoTap: 0 }, lastErrors: [] },
  };
}

export function agent(body: unknown = agentBody(), url = AGENT): AgentAnswers {
  return { url, status: ok(body) };
}

export { ok };
