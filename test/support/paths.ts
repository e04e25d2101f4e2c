/**
 * Where the tests find what lives outside the repository: the shared conformance captures sit
 * beside the checkout (`../shared`), as on the developers' machines and in CI. WEFT_SHARED_DIR
 * points elsewhere. A missing directory fails the test run loudly instead of testing nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const SHARED_DIR = process.env['WEFT_SHARED_DIR'] ?? path.resolve(REPO_ROOT, '../shared');

export const PCAP_DIR = path.join(SHARED_DIR, 'conformance', 'pcaps');

if (!existsSync(PCAP_DIR)) {
  throw new Error(`conformance captures not found at ${PCAP_DIR}: check out shared/ beside the repository or set WEFT_SHARED_DIR`);
}

/** Where a shared conformance capture is. */
export function pcapPath(name: string): string {
  return path.join(PCAP_DIR, name);
}

/** A shared conformance capture's bytes. */
export function pcapBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(pcapPath(name)));
}
