/**
 * What each poll of GoBGP's VPNv4 RIB means for the gateway (sans-IO): the VRF's routes when
 * they changed, and which of its own advertisements GoBGP no longer holds (a restarted
 * gobgpd forgets locally added paths, so they are added again).
 */
import { importedPaths, ribPathsFromText, routesSignature, selectRoutes, type RouteEntry } from './gobgp-rib.js';
import type { VpnRoute } from './gobgp-cli.js';

export interface RouteSyncOptions {
  importRts: readonly string[];
  /** The gateway's own routes in the VRF (its RD, label, next hop). */
  advertise: readonly VpnRoute[];
}

export interface SyncResult {
  /** The new table; absent when it did not change. */
  routes?: RouteEntry[];
  /** Own routes missing from the RIB. */
  readvertise: VpnRoute[];
  /** RIB entries that were not readable labelled VPNv4 paths. */
  skipped: number;
}

export class RouteSync {
  private signature: string | undefined;
  current: RouteEntry[] = [];

  constructor(private readonly o: RouteSyncOptions) {}

  onRib(text: string): SyncResult {
    const { paths, skipped } = ribPathsFromText(text);
    const own = new Set(paths.map((p) => `${p.rd} ${p.prefix} ${p.label} ${p.nexthop}`));
    const readvertise = this.o.advertise.filter((a) => !own.has(`${a.rd} ${a.prefix} ${a.label} ${a.nexthop}`));
    const ownRd = this.o.advertise[0]?.rd;
    const ownNexthop = this.o.advertise[0]?.nexthop;
    const routes = selectRoutes(importedPaths(paths, { importRts: this.o.importRts, ...(ownRd ? { ownRd } : {}), ...(ownNexthop ? { ownNexthop } : {}) }));
    const sig = routesSignature(routes);
    if (sig === this.signature) return { readvertise, skipped };
    this.signature = sig;
    this.current = routes;
    return { routes, readvertise, skipped };
  }
}
