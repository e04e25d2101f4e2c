/**
 * The decision taken on a flow's first packet. The agent plugs its firewall / security-group
 * evaluation in as a hook; `natPolicy` covers floating IPs and service VIPs on top of it.
 */
import type { FlowKey } from './flow.js';
import type { Route } from './route-table.js';

export interface FlowContext {
  key: FlowKey;
  ingress: { kind: 'vif'; vif: number } | { kind: 'fabric'; tunnelSrc: string };
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

export interface FloatingIp {
  fixedIp: string;
  /** The pod's VRF. */
  vrf: number;
  fip: string;
  /** VRF of the floating-IP network. */
  fipVrf: number;
}

/** A service address on the backend's node: vip:port is DNAT+DPAT'd to backend:targetPort. */
export interface ServiceVip {
  vip: string;
  port: number;
  proto: number;
  backend: string;
  targetPort: number;
}

/**
 * Floating IPs (DNAT in, SNAT out when the destination is only reachable in the FIP network)
 * and service VIPs; anything else goes to `next`.
 */
export function natPolicy(cfg: { floatingIps?: FloatingIp[]; vips?: ServiceVip[]; next?: PolicyHook }): PolicyHook {
  const next = cfg.next ?? allowAll;
  return (ctx) => {
    const k = ctx.key;
    for (const v of cfg.vips ?? []) {
      if (k.dst === v.vip && k.dport === v.port && k.proto === v.proto) {
        const base = next(ctx);
        if (base.action === 'drop') return base;
        return { action: 'nat', dst: v.backend, dport: v.targetPort };
      }
    }
    for (const f of cfg.floatingIps ?? []) {
      if (k.dst === f.fip) {
        const base = next(ctx);
        if (base.action === 'drop') return base;
        return { action: 'nat', dst: f.fixedIp, destVrf: f.vrf, reverseVrf: f.vrf, reverseDestVrf: f.fipVrf };
      }
      if (k.src === f.fixedIp && k.vrf === f.vrf && !ctx.routeIn(f.vrf, k.dst) && ctx.routeIn(f.fipVrf, k.dst)) {
        const base = next(ctx);
        if (base.action === 'drop') return base;
        return { action: 'nat', src: f.fip, destVrf: f.fipVrf, reverseVrf: f.vrf, reverseDestVrf: f.vrf };
      }
    }
    return next(ctx);
  };
}
