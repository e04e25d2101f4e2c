import type { StreamErrorCondition } from '../../../codecs/xmpp/index.js';

/**
 * An agent broke the dialect: the session answers with this RFC 6120 stream error and closes.
 * Thrown only inside the session's own checks and caught by the session; it never reaches the
 * adapter, which sees a `close` action instead.
 */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';

  constructor(
    readonly condition: StreamErrorCondition,
    readonly text: string,
  ) {
    super(`${condition}: ${text}`);
  }
}

export function violation(condition: StreamErrorCondition, text: string): never {
  throw new ProtocolViolation(condition, text);
}
