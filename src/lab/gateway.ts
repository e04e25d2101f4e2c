/**
 * The SDN gateway of the lab (the book's MX "camaro"): gobgpd as its BGP speaker, peering
 * with the control node over iBGP VPNv4 and holding VRF k8s-test (target:500:500), and
 * `weft gateway` as its data plane (src/gateway, docs/gateway.md), both in weft-gateway.
 * One gateway configuration feeds both: gobgpd's TOML is derived from it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { formatIssue } from '../config/issues.js';
import { validateJson } from '../config/load.js';
import { gatewayConfigSchema, gobgpdOptionsOf } from '../gateway/config.js';
import { gobgpdArgs, gobgpdConfig } from '../gateway/gobgpd-config.js';
import { RUN_DIR } from './state.js';
import { FIP_POOL, INTERNET, type LabTopology } from './topology.js';

export const GOBGP_API_PORT = 50051;
export const GATEWAY_API = 'http://127.0.0.1:8086';
export const GATEWAY_VRF = 'k8s-test';
export const GATEWAY_RT = 'target:500:500';

/** `weft gateway`'s configuration (src/gateway/config.ts) for the lab. */
export function gatewayConfig(t: LabTopology): Record<string, unknown> {
  return {
    name: 'camaro',
    'local-address': t.gatewayLoopback,
    bgp: { as: t.gatewayAs, neighbors: [{ address: t.control.address, 'peer-as': t.asn }] },
    vrf: { name: GATEWAY_VRF, rd: `${t.gatewayLoopback}:1`, import: [GATEWAY_RT], export: [GATEWAY_RT] },
    internet: { interface: INTERNET.gatewayLink, networks: [INTERNET.prefix], 'floating-ip-pools': [FIP_POOL], table: INTERNET.table, 'rule-priority': 100 },
    // The fabric carries jumbo frames, so a full-size Internet packet still fits once in GRE.
    tap: { name: INTERNET.gatewayTap, mtu: 1500 },
    gobgp: { address: '127.0.0.1', port: GOBGP_API_PORT },
    introspect: { address: '127.0.0.1', port: Number(new URL(GATEWAY_API).port) },
  };
}

export interface GatewayCommands {
  gobgpd: string[];
  gateway: string[];
}

/** Writes gateway.yaml and gobgpd.toml under RUN_DIR; returns both daemons' argv. */
export function gatewayCommands(t: LabTopology, gobgpd: string, node: string, weftBin: string): GatewayCommands {
  const doc = gatewayConfig(t);
  const v = validateJson(doc, gatewayConfigSchema);
  if (!v.ok) throw new Error(`the lab's gateway configuration is invalid:\n${v.issues.map(formatIssue).join('\n')}`);
  // Both ends dial; one second keeps the session's first attempt close to the control node's start.
  const options = { ...gobgpdOptionsOf(v.value), connectRetry: 1 };
  const yaml = path.join(RUN_DIR, 'gateway.yaml');
  const toml = path.join(RUN_DIR, 'gobgpd.toml');
  writeFileSync(yaml, `# weft lab: the SDN gateway's data plane\n${stringify(doc)}`);
  writeFileSync(toml, gobgpdConfig(options));
  return { gobgpd: [gobgpd, ...gobgpdArgs(options, toml)], gateway: [node, weftBin, 'gateway', '--config', yaml] };
}
