/**
 * The decision taken on a flow's first packet. The agent plugs its firewall / security-group
 * evaluation in as a hook; `natPolicy` covers floating IPs and service VIPs on top of it.
 */
import type { FlowKey } from './flow.js';
import type { NextHop } from './nexthop.js';
import type { Route } from './route-table.js';

/**
 * Where the untranslated packet goes: the next hop its label names (from the fabric) or its
 * route does, and for a Composite the member this flow keeps. The ECMP member is chosen
 * before NAT, as in the vRouter, so that a VIP or floating IP is translated by the node whose
 * member delivers to the backend and by no other: `ip` is the address of the local
 * interface an Encap next hop delivers to.
 */
export interface FlowEgress {
  nh: number;
  type: NextHop['type'];
  vif?: number;
  ip?: string;
}

export interface FlowContext {
  key: FlowKey;
  ingress: { kind: 'vif'; vif: number } | { kind: 'fabric'; tunnelSrc: string };
  /** Absent when the packet has no route (yet) in its VRF. */
  egress?: FlowEgress;
  /** Longest-prefix match in any VRF, for policies that look at where a destination lives. */
  routeIn(vrf: number, ip: string): Route | undefined;
}

export type PolicyDecision =
  | { action: 'forward'; destVrf?: number }
  | { action: 'drop'; reason: string }
  | {
      action: 'nat';
      src?: string;
      sport?: number;
      dst?: string;
      dport?: number;
      /** VRF the translated packet is routed in (default: the key's). */
      destVrf?: number;
      /** VRF the reply is keyed in (default: destVrf) and routed to (default: the key's). */
      reverseVrf?: number;
      reverseDestVrf?: number;
    };

export type PolicyHook = (ctx: FlowContext) => PolicyDecision;

export const allowAll: PolicyHook = () => ({ action: 'forward' });

/** A port translation: `proto`/`port` arriving becomes `targetPort`. No proto: any protocol. */
export interface PortMapping {
  proto?: number;
  port: number;
  targetPort: number;
}

export interface FloatingIp {
  fixedIp: string;
  /** The pod's VRF. */
  vrf: number;
  fip: string;
  /** VRF of the floating-IP network. */
  fipVrf: number;
  /**
   * Only these ports are translated (DNAT+DPAT; a LoadBalancer's external address). A
   * port-mapped address is not a pod's identity: its own connections are not SNAT'd to it.
   */
  portMap?: PortMapping[];
}

/** A service address on the backend's node: vip:port is DNAT+DPAT'd to backend:targetPort. */
export interface ServiceVip {
  vip: string;
  /** Absent: any port, kept. */
  port?: number;
  /** Absent: any protocol. */
  proto?: number;
  backend: string;
  /** Absent: the port is kept. */
  targetPort?: number;
}

/**
 * Floating IPs (DNAT in, SNAT out when the destination is only reachable in the FIP network)
 * and service VIPs; anything else goes to `next`. An address is translated only when the
 * flow's egress delivers to the fixed IP / backend here (see FlowEgress): a client's node
 * whose ECMP choice is another node's backend forwards the VIP untouched.
 */
export function natPolicy(cfg: { floatingIps?: FloatingIp[]; vips?: ServiceVip[]; next?: PolicyHook }): PolicyHook {
  const next = cfg.next ?? allowAll;
  // The firewall judges the untranslated flow; NAT only applies to what it lets through.
  const unlessDropped = (ctx: FlowContext, d: PolicyDecision): PolicyDecision => {
    const base = next(ctx);
    return base.action === 'drop' ? base : d;
  };
  return (ctx) => {
    const k = ctx.key;
    const to = ctx.egress?.ip;
    for (const v of cfg.vips ?? []) {
      if (k.dst !== v.vip || to !== v.backend) continue;
      if ((v.proto !== undefined && k.proto !== v.proto) || (v.port !== undefined && k.dport !== v.port)) continue;
      return unlessDropped(ctx, { action: 'nat', dst: v.backend, ...(v.targetPort !== undefined ? { dport: v.targetPort } : {}) });
    }
    for (const f of cfg.floatingIps ?? []) {
      if (k.dst === f.fip && to === f.fixedIp) {
        let dport: number | undefined;
        if (f.portMap && f.portMap.length > 0) {
          const m = f.portMap.find((p) => (p.proto === undefined || p.proto === k.proto) && p.port === k.dport);
          if (!m) continue;
          dport = m.targetPort;
        }
        return unlessDropped(ctx, {
          action: 'nat',
          dst: f.fixedIp,
          ...(dport !== undefined ? { dport } : {}),
          destVrf: f.vrf,
          reverseVrf: f.vrf,
          reverseDestVrf: f.fipVrf,
        });
      }
      if (f.portMap && f.portMap.length > 0) continue;
      if (k.src === f.fixedIp && k.vrf === f.vrf && !ctx.routeIn(f.vrf, k.dst) && ctx.routeIn(f.fipVrf, k.dst)) {
        return unlessDropped(ctx, { action: 'nat', src: f.fip, destVrf: f.fipVrf, reverseVrf: f.vrf, reverseDestVrf: f.vrf });
      }
    }
    return next(ctx);
  };
}
