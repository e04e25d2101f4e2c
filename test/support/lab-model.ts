import type { ControlModel } from '../../src/control/config-model.js';

/**
 * A control model (the book lab's, usually) moved onto `host`: router id, BGP, XMPP,
 * introspect and REST there on kernel-chosen ports, and no BGP routers unless given.
 */
export function modelOnLoopback(lab: ControlModel, host = '127.0.0.1', bgpRouters: ControlModel['bgpRouters'] = []): ControlModel {
  return {
    ...lab,
    global: {
      ...lab.global,
      routerId: host,
      bgp: { ...lab.global.bgp, address: host, port: 0 },
      xmpp: { ...lab.global.xmpp, address: host, port: 0 },
      introspect: { address: host, port: 0 },
      rest: { address: host, port: 0 },
    },
    bgpRouters,
  };
}
