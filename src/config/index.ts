export * from './issues.js';
export * from './input.js';
export * from './schema.js';
export * from './net.js';
export * from './load.js';
