/**
 * TLS certificate, key and CA files named in a config (XMPP, dialect notes 3.2). Each file is
 * read while validating, so a missing or wrong file is reported at its line in the config
 * like any other bad value, not when the first agent connects. The value kept is the path
 * (absolute), never the PEM: models are shown whole by the REST API, keys must not be.
 *
 * Relative paths are taken from the config file's directory (from the working directory for
 * input that is not a file), so a config and its certificates can move together.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { object, optional, refine, required } from './schema.js';
import type { Context, Refinement, Schema } from './schema.js';
import type { InputNode } from './input.js';

/** PEM files are small; a cap keeps a wrong path (a disk image...) from being read whole. */
const MAX_PEM_BYTES = 1 << 20;

type PemKind = 'certificate' | 'private key';

const PEM_LABEL: Record<PemKind, RegExp> = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  // PKCS#8, PKCS#1 RSA or SEC1 EC; an encrypted key would need a passphrase nobody gives.
  'private key': /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
};

function readPem(file: string): string {
  const buf = readFileSync(file);
  if (buf.length > MAX_PEM_BYTES) throw new Error(`larger than ${MAX_PEM_BYTES} bytes`);
  return buf.toString('latin1');
}

/** A PEM file holding a `kind`; its absolute path. */
export function pemFile(kind: PemKind): Schema<string> {
  const expected = `a path to a PEM ${kind} file`;
  return {
    expected,
    parse(node: InputNode, cx: Context) {
      if (node.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '') return cx.report(node.pos, `must be ${expected}`);
      const file = path.resolve(cx.source !== undefined ? path.dirname(cx.source) : '.', node.value);
      let text: string;
      try {
        text = readPem(file);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return cx.report(node.pos, `cannot read ${file}: ${err.code ?? err.message}`);
      }
      if (!PEM_LABEL[kind].test(text)) {
        const hint = kind === 'private key' && text.includes('ENCRYPTED PRIVATE KEY') ? ' (encrypted keys are not supported)' : '';
        return cx.report(node.pos, `${file} holds no PEM ${kind}${hint}`);
      }
      return file;
    },
  };
}

export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

function contextProblem(o: { cert?: string; key?: string; ca?: string }): string | undefined {
  try {
    createSecureContext(o);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Report what would stop the files making a TLS context: a key not the certificate's, a CA that does not parse. */
function checkContext(t: TlsFiles, r: Refinement): void {
  if (t.cert !== undefined && t.key !== undefined) {
    const why = contextProblem({ cert: readPem(t.cert), key: readPem(t.key) });
    if (why !== undefined) r.report(['key'], `does not go with cert: ${why}`);
  }
  if (t.ca !== undefined) {
    const why = contextProblem({ ca: readPem(t.ca) });
    if (why !== undefined) r.report(['ca'], `not a usable CA: ${why}`);
  }
}

/** A server's: certificate and key required, `ca` to verify the peers' certificates. */
export const serverTlsSchema = refine(
  object({ cert: required(pemFile('certificate')), key: required(pemFile('private key')), ca: optional(pemFile('certificate')) }),
  checkContext,
);

/** A client's: certificate and key together or not at all; `ca` to verify the server's. */
export const clientTlsSchema = refine(
  object({ cert: optional(pemFile('certificate')), key: optional(pemFile('private key')), ca: optional(pemFile('certificate')) }),
  (t, r) => {
    // At the one given: its line is where the other is missing.
    if ((t.cert === undefined) !== (t.key === undefined)) r.report([t.cert === undefined ? 'key' : 'cert'], `given without ${t.cert === undefined ? 'cert' : 'key'}: cert and key go together`);
    else checkContext(t, r);
  },
);
