/**
 * Network-layer codecs: Ethernet, ARP, IPv4/IPv6, ICMP, UDP, TCP, GRE, MPLS, VXLAN,
 * MPLS-in-UDP, DHCP.
 *
 * One convention for the whole directory:
 * - `decodeX(buf, offset = 0, end = buf.length)` decodes the layer starting at `buf[offset]`
 *   and reads nothing at or after `end`. A DecodeError's offset is absolute in `buf`, so
 *   decoding an inner layer as `decodeUdp(frame, start, stop)` reports frame offsets, while
 *   `decodeUdp(ip.payload)` reports offsets within the IP payload.
 * - Payloads, trailers and raw fields are views into `buf` (no copies); copy them if `buf`
 *   is going to be reused.
 * - Each layer stops at its own boundary and hands the rest on: `payload` is the next layer,
 *   `trailer` what comes after a length field's end (link padding). A length that promises more
 *   than the capture holds is not an error: the value says `truncated: true`.
 * - `encodeX(value)` writes every field as given and computes lengths, checksums and padding
 *   only when they are undefined (the `XInput` types), so `encodeX(decodeX(b))` equals b.
 *   UDP and TCP need the IP addresses for their checksum: `encodeUdp(v, { src, dst })`.
 */
export * from './layers.js';
export * from './types.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmp.js';
export * from './transport-checksum.js';
export * from './udp.js';
export * from './tcp.js';
export * from './gre.js';
export * from './mpls.js';
export * from './vxlan.js';
export * from './mpls-in-udp.js';
export * from './dhcp.js';
