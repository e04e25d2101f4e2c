/**
 * Why a request got no answer, in the words contrail-status users expect ("connection
 * refused"), from what fetch throws: undici hides the socket's errno in `cause.code`, a
 * timeout is a DOMException named TimeoutError.
 */
const BY_CODE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
};

export function fetchErrorReason(e: unknown, timeoutMs: number): string {
  if (typeof e !== 'object' || e === null) return String(e);
  const err = e as { name?: unknown; message?: unknown; cause?: unknown };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = typeof err.cause === 'object' && err.cause !== null ? (err.cause as { code?: unknown; message?: unknown }) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code !== undefined) return BY_CODE[code] ?? code;
  if (typeof cause?.message === 'string') return cause.message;
  return typeof err.message === 'string' ? err.message : String(e);
}
