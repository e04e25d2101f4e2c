import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchErrorReason } from '../../../src/status/fetch-error.js';

describe('fetchErrorReason', () => {
  it('says "connection refused" for what fetch throws at a closed port', async () => {
    // A port just freed: nothing listens there any more.
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const e = await fetch(`http://127.0.0.1:${port}/`).then(() => undefined, (x: unknown) => x);
    expect(fetchErrorReason(e, 3000)).toBe('connection refused');
  });

  it('names a timeout with its length, and keeps unknown codes and messages', async () => {
    // A server that never answers.
    const s = http.createServer(() => undefined);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    const e = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }).then(() => undefined, (x: unknown) => x);
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    expect(fetchErrorReason(e, 50)).toBe('no answer within 0.05 s');
    expect(fetchErrorReason({ cause: { code: 'EWHATEVER' } }, 1)).toBe('EWHATEVER');
    expect(fetchErrorReason(new TypeError('fetch failed', { cause: new Error('bad port') }), 1)).toBe('bad port');
    expect(fetchErrorReason('x', 1)).toBe('x');
  });
});
