/** The agent's access to the kernel: TAPs for pods, raw GRE, network namespaces. */
export * from './native.js';
export * from './frame-channel.js';
export * from './tap.js';
export * from './raw-ip.js';
export * from './udp.js';
export * from './netns.js';
export * from './pod.js';
