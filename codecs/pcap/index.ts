export * from './pcap.js';
export * from './pcapng.js';
export * from './linktypes.js';
export * from './capture.js';
