/** The packet dissection engine behind `weft decode`. */
export * from './types.js';
export * from './decode-as.js';
export * from './engine.js';
export * from './output.js';
export { TcpDirection, SegmentMap, directionKey, connectionKey, type TcpSegment, type ReassemblyEvent } from './tcp-reassembly.js';
export { BgpStream, type BgpStreamItem } from './bgp-stream.js';
export { XmppStream, type XmppStreamItem } from './xmpp-stream.js';
export type { DecodedBgpMessage } from './bgp-session.js';
