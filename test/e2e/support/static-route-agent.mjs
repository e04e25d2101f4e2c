/**
 * A host that is not a weft agent (here: a kernel VXLAN device) made known to the control
 * node: an XMPP agent session under the host's name that subscribes to one instance and
 * publishes one route with the host as next hop, then stays connected until SIGTERM (the CN
 * would withdraw the route when the session goes). Uses the agent's own XMPP client from dist/.
 *
 *   node static-route-agent.mjs <agent-name> <host-ip> <cn-ip> <instance> <vn> <prefix> <label>
 *
 * Prints `published` once the session is established and the route sent.
 */
import { AgentXmppClient } from '../../../dist/src/agent/xmpp-client.js';
import { XmppClientAdapter } from '../../../dist/src/agent/client-adapter.js';

const [name, hostIp, cnIp, instance, vn, prefix, label] = process.argv.slice(2);
if (!label) {
  console.error('usage: static-route-agent.mjs <agent-name> <host-ip> <cn-ip> <instance> <vn> <prefix> <label>');
  process.exit(2);
}
// VXLAN is not in the list: the CN drops it from inet routes anyway (dialect notes 9.1); the
// receiving agent adds it from its network's configured vxlan-id.
const client = new AgentXmppClient({ agent: name, vhostIp: hostIp, encapPriority: ['MPLSoUDP'] });
const adapter = new XmppClientAdapter(client, { host: cnIp, port: 5269, localAddress: hostIp }, (e) => {
  if (e.type === 'established') console.log('established');
  else if (e.type === 'down') console.log(`down ${e.reason}`);
});
adapter.run(client.subscribe(instance, 1));
adapter.run(client.publish({ vrf: instance, prefix, label: Number(label), virtualNetwork: vn }));
adapter.start();
// The adapter's timers are unref'd (the agent's API server keeps it alive); nothing else would here.
const alive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(alive);
  adapter.stop();
  process.exit(0);
});
