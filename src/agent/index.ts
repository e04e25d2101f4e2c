/** The compute node's agent: XMPP client to the control nodes, route sync into the vRouter, pods. */
export * from './xmpp-client.js';
export * from './client-adapter.js';
export * from './route-sync.js';
export * from './agent.js';
