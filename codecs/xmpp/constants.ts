/** Names the dialect compares literally (dialect notes sections 1 and 6). */

export const STREAMS_NS = 'http://etherx.jabber.org/streams';
export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
export const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const STREAM_ERRORS_NS = 'urn:ietf:params:xml:ns:xmpp-streams';

export const CONTROL_NODE_JID = 'network-control@contrailsystems.com';
/** `to` of agent route IQs and EoR: the CN dispatches on the substring `bgp-peer`. */
export const BGP_PEER_JID = `${CONTROL_NODE_JID}/bgp-peer`;
/** `to` of agent config subscriptions: dispatched on the substring `config`. */
export const CONFIG_JID = `${CONTROL_NODE_JID}/config`;

export const EOR_NODE = '0/0/EndOfRib';
export const VR_FQN_PREFIX = 'default-global-system-config:';

/** The CN's literal stream id ([C:src/xmpp/xmpp_str.h] `sXMPP_STREAM_RESP`). */
export const SERVER_STREAM_ID = '++123';

/** A message carries at most this many items, or this many retracts ([C:src/bgp/xmpp_message_builder.h]). */
export const MAX_ITEMS_PER_MESSAGE = 32;
export const MAX_RETRACTS_PER_MESSAGE = 256;

/** RFC 6120 section 4.9.3. */
export const STREAM_ERROR_CONDITIONS = [
  'bad-format',
  'bad-namespace-prefix',
  'conflict',
  'connection-timeout',
  'host-gone',
  'host-unknown',
  'improper-addressing',
  'internal-server-error',
  'invalid-from',
  'invalid-namespace',
  'invalid-xml',
  'not-authorized',
  'not-well-formed',
  'policy-violation',
  'remote-connection-failed',
  'reset',
  'resource-constraint',
  'restricted-xml',
  'see-other-host',
  'system-shutdown',
  'undefined-condition',
  'unsupported-encoding',
  'unsupported-feature',
  'unsupported-stanza-type',
  'unsupported-version',
] as const;

export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];
