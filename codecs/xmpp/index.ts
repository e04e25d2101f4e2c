/** Contrail-dialect XMPP codecs: framer, XML subset, typed stanzas, item entries and config nodes. */
export * from './constants.js';
export * from './framer.js';
export * from './xml.js';
export * from './items.js';
export * from './stanzas.js';
export * from './config.js';
