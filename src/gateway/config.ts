/**
 * `weft gateway --config <file>`: the SDN gateway's data plane, and what its gobgpd needs
 * (`weft gateway --config <file> --gobgpd-config` prints that TOML). The book lab's values:
 *
 *   local-address: 192.168.0.204          # loopback: GRE end point, BGP source, next hop
 *   bgp: { as: 64512, neighbors: [{ address: 10.169.25.19 }] }
 *   vrf: { name: k8s-test, rd: 192.168.0.204:1, import: [target:500:500], export: [target:500:500] }
 *   internet: { interface: to-inet, networks: [198.51.100.0/24], floating-ip-pools: [203.0.113.0/24] }
 *   advertise: { label: 299776 }          # prefixes default to internet.networks
 *   tap: { name: weft-gw0, mtu: 1472 }
 *   gobgp: { address: 127.0.0.1, port: 50051, poll-interval-ms: 300 }
 *   introspect: { address: 127.0.0.1, port: 8086 }
 */
import { formatRd, parseRd } from '../../codecs/bgp/rd.js';
import { ipv4, prefix, routeTarget, routerId } from '../config/net.js';
import { bool, defaultsOf, int, list, object, oneOf, optional, required, string, textOf, withDefault } from '../config/schema.js';
import type { Infer } from '../config/schema.js';
import type { GobgpdOptions } from './gobgpd-config.js';

export const DEFAULT_GATEWAY_INTROSPECT_PORT = 8086;
/** The first label Junos hands out dynamically; any label 16..2^20-1 the gateway owns will do. */
export const DEFAULT_GATEWAY_LABEL = 299776;
/** 1500 minus outer IPv4 (20), GRE (4) and one label (4): bigger packets get fragmented or PMTU errors by the kernel first. */
export const DEFAULT_TAP_MTU = 1472;

const routeDistinguisher = textOf('a route distinguisher like 192.168.0.204:1', (s) => formatRd(parseRd(s)));
const ifName = textOf('an interface name (1-15 of letters, digits, . _ -)', (s) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(s) ? s : undefined));
const vrfName = textOf('a VRF name (letters, digits, . _ : -)', (s) => (/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(s) ? s : undefined));
const binary = textOf('a command name or absolute path', (s) => (/^[A-Za-z0-9_./+-]{1,255}$/.test(s) ? s : undefined));

/** The gateway terminates MPLSoGRE only, so that is the one encapsulation it may announce. */
export const ENCAP_COMMUNITIES = ['mpls-in-gre', 'none'] as const;

export const gatewayConfigSchema = object({
  'local-address': required(ipv4()),
  bgp: defaultsOf(
    object({
      as: withDefault(int(1, 0xffffffff), 64512),
      /** Default: local-address. */
      'router-id': optional(routerId()),
      'listen-port': withDefault(int(-1, 65535), 179),
      neighbors: withDefault(
        list(object({ address: required(ipv4()), 'peer-as': optional(int(1, 0xffffffff)), port: optional(int(1, 65535)), passive: withDefault(bool(), false) }), {
          unique: (n) => n.address,
        }),
        () => [],
      ),
    }),
  ),
  vrf: required(
    object({
      name: required(vrfName),
      /** gobgpd's VRF id. */
      id: withDefault(int(1, 0xffffffff), 1),
      rd: required(routeDistinguisher),
      import: required(list(routeTarget(), { min: 1, unique: (x) => x })),
      export: required(list(routeTarget(), { min: 1, unique: (x) => x })),
    }),
  ),
  internet: required(
    object({
      /** The link towards the Internet host(s). */
      interface: required(ifName),
      /** Reached through `interface` (routes in `table`); advertised into the VRF by default. */
      networks: required(list(prefix('ipv4'), { min: 1, unique: (x) => x })),
      /** Next hop on `interface` for `networks`; none: they are on the link. */
      gateway: optional(ipv4()),
      /** Routed into the TAP from the Internet side. */
      'floating-ip-pools': required(list(prefix('ipv4'), { min: 1, unique: (x) => x })),
      table: withDefault(int(1, 0xfffffffe), 100),
      'rule-priority': withDefault(int(1, 32765), 100),
    }),
  ),
  advertise: defaultsOf(
    object({
      /** Default: internet.networks. */
      prefixes: optional(list(prefix('ipv4'), { min: 1, unique: (x) => x })),
      label: withDefault(int(16, 0xfffff), DEFAULT_GATEWAY_LABEL),
      /** Encapsulation extended community on the advertised routes (RFC 9012), so agents pick GRE. */
      encapsulation: withDefault(oneOf(ENCAP_COMMUNITIES), 'mpls-in-gre'),
    }),
  ),
  tap: defaultsOf(object({ name: withDefault(ifName, 'weft-gw0'), mtu: withDefault(int(576, 9000), DEFAULT_TAP_MTU) })),
  gobgp: defaultsOf(
    object({
      address: withDefault(ipv4(), '127.0.0.1'),
      port: withDefault(int(1, 65535), 50051),
      binary: withDefault(binary, 'gobgp'),
      'poll-interval-ms': withDefault(int(50, 60_000), 300),
    }),
  ),
  introspect: defaultsOf(object({ address: withDefault(ipv4(), '127.0.0.1'), port: withDefault(int(0, 65535), DEFAULT_GATEWAY_INTROSPECT_PORT) })),
  /** Free text for the logs and /status. */
  name: withDefault(string({ minLength: 1, maxLength: 64 }), 'gateway'),
});

export type GatewayConfig = Infer<typeof gatewayConfigSchema>;

/** The prefixes the gateway advertises (and accepts behind its label). */
export function advertisedPrefixes(c: GatewayConfig): string[] {
  return [...(c.advertise.prefixes ?? c.internet.networks)];
}

/** What gobgpd needs to be this gateway's BGP speaker (`weft gateway --gobgpd-config`). */
export function gobgpdOptionsOf(c: GatewayConfig): GobgpdOptions {
  return {
    routerId: c.bgp.routerId ?? c.localAddress,
    as: c.bgp.as,
    localAddress: c.localAddress,
    listenPort: c.bgp.listenPort,
    neighbors: c.bgp.neighbors.map((n) => ({
      address: n.address,
      ...(n.peerAs !== undefined ? { peerAs: n.peerAs } : {}),
      ...(n.port !== undefined ? { remotePort: n.port } : {}),
      ...(n.passive ? { passive: true } : {}),
    })),
    vrfs: [{ name: c.vrf.name, id: c.vrf.id, rd: c.vrf.rd, importRts: c.vrf.import, exportRts: c.vrf.export }],
    apiAddress: c.gobgp.address,
    apiPort: c.gobgp.port,
  };
}
