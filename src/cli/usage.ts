/** Bad command-line usage: main prints the message and the usage text, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}
