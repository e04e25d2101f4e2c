export * from './vif.js';
export * from './rt.js';
export * from './nh.js';
export * from './mpls.js';
export * from './flow.js';
export * from './json.js';
