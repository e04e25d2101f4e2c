/** BGP codecs: messages, attributes, capabilities, communities, NLRI. */
export * from './header.js';
export * from './capabilities.js';
export * from './open.js';
export * from './notification.js';
export * from './route-refresh.js';
export * from './extcommunity.js';
export * from './tunnel-encap.js';
export * from './attributes.js';
export * from './update.js';
export * from './options.js';
export * from './message.js';
export * from './nlri.js';
export * from './rd.js';
export * from './nexthop.js';
