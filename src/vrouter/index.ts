/**
 * The vRouter data plane, sans-IO: tables (vif, VRF/routes, next hops, MPLS labels, VNIs,
 * flows), the packet pipeline and the vRouter utilities' text layouts.
 */
export * from './addr.js';
export * from './route-table.js';
export * from './vif.js';
export * from './vrf.js';
export * from './nexthop.js';
export * from './mpls.js';
export * from './vni.js';
export * from './flow.js';
export * from './policy.js';
export * from './drops.js';
export * from './router.js';
export * from './arp.js';
export * from './encap.js';
export * from './packet-edit.js';
export { processPacket, process, processTunnelPayload, processFabricIp, type Action } from './pipeline.js';
export * from './format/index.js';
