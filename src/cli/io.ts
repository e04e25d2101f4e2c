import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage.js';

/** Where a command writes. Tests pass a capturing one; the real CLI writes to the process. */
export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** Batches many small writes (one line per packet) into fewer large ones. */
export class LineBuffer {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly out: CliIo['stdout'], private readonly limit = 1 << 16) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.out.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** parseArgs whose complaints (unknown option, missing value) become `weft <command>:` usage errors. */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(`weft ${command}: ${(e as Error).message}`, usage);
  }
}
