/**
 * `weft agent --config <file>`: the compute node's agent (docs in AGENT_CONFIG_HELP).
 *
 *   name: cent222                        # XMPP JID, the compute's hostname
 *   vhost: { address: 10.169.25.20 }     # tunnel source/destination, next hop of its routes
 *   control-nodes: [{ address: 10.169.25.19, port: 5269 }]   # one or two
 *   encapsulation: [MPLSoUDP, MPLSoGRE, VXLAN]                 # priority
 *   networks: [{ name: default-domain:k8s-default:vn1:vn1, vxlan-id: 5 }]
 *   introspect: { address: 127.0.0.1, port: 8085 }
 *   dataplane: { udp-senders: 8, source-port-base: 49152, gre: true }
 *   tls: { cert: agent.pem, key: agent.key, ca: ca.pem }   # optional: STARTTLS to the control
 *                                        # nodes; cert+key when the CN asks for them, ca to verify
 *                                        # the CN; paths relative to this file
 */
import { ENCAPSULATIONS } from '../config/control-model.js';
import { ipv4 } from '../config/net.js';
import { bool, defaultsOf, int, list, object, oneOf, optional, required, string, textOf, withDefault } from '../config/schema.js';
import type { Infer } from '../config/schema.js';
import { clientTlsSchema } from '../config/tls-files.js';

export const DEFAULT_AGENT_INTROSPECT_PORT = 8085;

const hostName = string({ minLength: 1, maxLength: 255 });
const mac = optional(textOf('a MAC address like 02:00:00:00:00:01', (s) => (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(s.toLowerCase()) ? s.toLowerCase() : undefined)));

export const agentConfigSchema = object({
  name: required(hostName),
  vhost: required(object({ address: required(ipv4()), mac })),
  'control-nodes': required(
    list(object({ address: required(ipv4()), port: withDefault(int(1, 65535), 5269) }), { min: 1, max: 2, unique: (c) => `${c.address}:${c.port}` }),
  ),
  encapsulation: withDefault(list(oneOf(ENCAPSULATIONS), { min: 1, unique: (x) => x }), () => [...ENCAPSULATIONS]),
  networks: withDefault(
    list(object({ name: required(string({ minLength: 1 })), 'vxlan-id': optional(int(1, 0xffffff)) }), { unique: (n) => n.name }),
    () => [],
  ),
  introspect: defaultsOf(object({ address: withDefault(ipv4(), '127.0.0.1'), port: withDefault(int(0, 65535), DEFAULT_AGENT_INTROSPECT_PORT) })),
  dataplane: defaultsOf(
    object({
      'udp-senders': withDefault(int(1, 256), 8),
      /** 0: let the kernel pick the senders' ports. */
      'source-port-base': withDefault(int(0, 65535), 49152),
      gre: withDefault(bool(), true),
    }),
  ),  /** STARTTLS towards every control node (dialect notes 3.2); absent: plain. */
  tls: optional(clientTlsSchema),
});

export type AgentFileConfig = Infer<typeof agentConfigSchema>;
