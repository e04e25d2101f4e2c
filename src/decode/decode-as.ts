import type { DecodeAsRule, TcpApp, UdpApp } from './types.js';

/**
 * Port bindings: tshark's defaults for the protocols weft speaks, plus the XMPP server port
 * and Contrail's MPLS-over-UDP port, which tshark does not bind (interop-recipes 7.2).
 */
export const DEFAULT_TCP_PORTS: ReadonlyMap<number, TcpApp> = new Map<number, TcpApp>([
  [179, 'bgp'],
  [5269, 'xmpp'],
]);

export const DEFAULT_UDP_PORTS: ReadonlyMap<number, UdpApp> = new Map<number, UdpApp>([
  [4789, 'vxlan'],
  [6635, 'mpls'],
  [51234, 'mpls'],
  [67, 'dhcp'],
  [68, 'dhcp'],
]);

const TCP_APPS: readonly string[] = ['bgp', 'xmpp'];
const UDP_APPS: readonly string[] = ['mpls', 'vxlan', 'dhcp'];

/**
 * Parse one `--decode-as` value in tshark's `-d` syntax: `tcp.port==N,bgp`. Throws an Error
 * with a message for the user when it does not parse.
 */
export function parseDecodeAs(text: string): DecodeAsRule {
  const m = /^(tcp|udp)\.port\s*==\s*(\d{1,5})\s*,\s*([a-z]+)$/.exec(text.trim());
  if (!m) throw new Error(`--decode-as ${JSON.stringify(text)}: expected tcp.port==N,bgp|xmpp or udp.port==N,mpls|vxlan|dhcp`);
  const transport = m[1] as 'tcp' | 'udp';
  const port = Number(m[2]);
  const app = m[3]!;
  if (port < 1 || port > 65535) throw new Error(`--decode-as ${JSON.stringify(text)}: port ${port} out of range 1..65535`);
  if (transport === 'tcp') {
    if (!TCP_APPS.includes(app)) throw new Error(`--decode-as ${JSON.stringify(text)}: over TCP weft decodes ${TCP_APPS.join(', ')}, not ${app}`);
    return { transport, port, app: app as TcpApp };
  }
  if (!UDP_APPS.includes(app)) throw new Error(`--decode-as ${JSON.stringify(text)}: over UDP weft decodes ${UDP_APPS.join(', ')}, not ${app}`);
  return { transport, port, app: app as UdpApp };
}

/** Port tables: the rules first (on either port), then the defaults, lower port first. */
export class PortBindings {
  private readonly ruleTcp = new Map<number, TcpApp>();
  private readonly ruleUdp = new Map<number, UdpApp>();

  constructor(rules: readonly DecodeAsRule[] = []) {
    for (const r of rules) {
      if (r.transport === 'tcp') this.ruleTcp.set(r.port, r.app);
      else this.ruleUdp.set(r.port, r.app);
    }
  }

  tcpApp(srcPort: number, dstPort: number): TcpApp | undefined {
    return pick(this.ruleTcp, srcPort, dstPort) ?? pick(DEFAULT_TCP_PORTS, srcPort, dstPort);
  }

  udpApp(srcPort: number, dstPort: number): UdpApp | undefined {
    return pick(this.ruleUdp, srcPort, dstPort) ?? pick(DEFAULT_UDP_PORTS, srcPort, dstPort);
  }
}

/** As tshark: the lower port is tried first, so a client's ephemeral port rarely wins. */
function pick<T>(m: ReadonlyMap<number, T>, a: number, b: number): T | undefined {
  if (m.size === 0) return undefined;
  return a <= b ? (m.get(a) ?? m.get(b)) : (m.get(b) ?? m.get(a));
}
