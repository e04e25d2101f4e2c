/**
 * A capture built only with weft's encoders (codecs/net, codecs/bgp, codecs/xmpp, codecs/pcap):
 * a BGP session, MPLSoUDP / MPLSoGRE / VXLAN overlay packets, ARP, DHCP and a Contrail XMPP
 * session, each frame paired with what tshark must report for it. The conformance test
 * (test/conformance/tshark-built.test.ts) holds tshark to that list, and
 * tools/make-sample-capture.ts writes the shipped fixture fixtures/captures/weft-encoded.pcap.
 */
import { LINKTYPE_ETHERNET, writePcap } from '../codecs/pcap/index.js';
import { addBgpSession } from './sample-capture/bgp-session.js';
import { addOverlay } from './sample-capture/overlay.js';
import { addXmppSession } from './sample-capture/xmpp-session.js';
import { FrameList, type SampleFrame } from './sample-capture/frames.js';

export type { SampleFrame, TsharkFields } from './sample-capture/frames.js';

/** Start of the capture; frames follow 1 ms apart, so the file is the same on every run. */
const EPOCH = 1_700_000_000;

export interface SampleCapture {
  /** Classic pcap, LINKTYPE_ETHERNET. */
  bytes: Uint8Array;
  /** One entry per frame, in order. */
  expected: SampleFrame[];
}

export function buildSampleCapture(): SampleCapture {
  const list = new FrameList();
  addBgpSession(list);
  addXmppSession(list);
  addOverlay(list);
  const bytes = writePcap(
    list.data.map((data, i) => ({ ts: { sec: EPOCH + Math.floor(i / 1000), nsec: (i % 1000) * 1_000_000 }, data })),
    LINKTYPE_ETHERNET,
  );
  return { bytes, expected: list.frames };
}
