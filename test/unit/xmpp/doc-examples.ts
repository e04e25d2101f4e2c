import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from '../../support/paths.js';

/**
 * The XML examples of the dialect notes, read from the document itself so that the tests
 * follow it when it changes.
 */
export const DIALECT_DOC = path.join(SHARED_DIR, 'docs', 'contrail-xmpp-dialect.md');

export interface DocExample {
  /** 1-based line of the opening fence (or of the inline span). */
  line: number;
  text: string;
}

export function dialectDoc(): string {
  return readFileSync(DIALECT_DOC, 'utf8');
}

/** Fenced ```xml blocks. */
export function xmlBlocks(doc = dialectDoc()): DocExample[] {
  const lines = doc.split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```xml') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    out.push({ line: start + 1, text: body.join('\n') });
  }
  return out;
}

/** Inline `code` spans that are whole TLS negotiation elements (section 3.2). */
export function inlineTlsElements(doc = dialectDoc()): DocExample[] {
  const out: DocExample[] = [];
  const lines = doc.split('\n');
  lines.forEach((l, i) => {
    // Only the complete ones (with their namespace); the others are shorthand in prose.
    for (const m of l.matchAll(/`(<(?:stream:features|starttls|proceed)\b[^`]*xmlns=[^`]*)`/g)) {
      out.push({ line: i + 1, text: m[1]! });
    }
  });
  return out;
}
