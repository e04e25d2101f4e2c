import { Agent } from '../../src/agent/agent.js';
import { reconnectDelayMs } from '../../src/agent/xmpp-client.js';

/**
 * A weft Agent (no kernel I/O) whose one control node is 127.0.0.1:`cnPort`, reconnecting on
 * the dialect's schedule 20 times faster so a control-node restart is over in a test's time.
 */
export function loopbackAgent(o: { name: string; vhostIp: string; cnPort: number; fabricMac: string; underlayMac: string }): Agent {
  return new Agent({
    name: o.name,
    vhostIp: o.vhostIp,
    controlNodes: [{ host: '127.0.0.1', port: o.cnPort }],
    fabricMac: o.fabricMac,
    underlayMac: o.underlayMac,
    client: { reconnectDelay: (n) => Math.ceil(reconnectDelayMs(n) / 20) },
  });
}
