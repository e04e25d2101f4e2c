/**
 * Minimal entry for tests and the benchmark: `node dist/src/bgp/main-speaker.js <config.json>`
 * starts a Speaker from a JSON SpeakerConfig and stops it cleanly (Cease to every peer) on
 * SIGTERM or SIGINT. The YAML configuration and `weft control` come later.
 */
import { readFileSync } from 'node:fs';
import { Speaker, type SpeakerConfig } from './speaker.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const path = args[0] === '--config' ? args[1] : args[0];
  if (path === undefined) {
    process.stderr.write('usage: main-speaker [--config] <config.json>\n');
    process.exit(64);
  }
  const config = JSON.parse(readFileSync(path, 'utf8')) as SpeakerConfig;
  const speaker = new Speaker(config);
  await speaker.start();
  const listen = config.listen ? `${config.listen.address}:${speaker.listenPort ?? config.listen.port}` : 'no listener';
  process.stdout.write(`weft bgp speaker AS ${config.localAs} id ${config.routerId} on ${listen}, ${config.neighbors?.length ?? 0} neighbors\n`);
  memoryLog(Number(process.env.WEFT_MEMLOG_MS ?? 0));
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${sig}: stopping\n`);
    // A stuck peer must not keep us from exiting.
    setTimeout(() => process.exit(0), 3000).unref();
    void speaker.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** WEFT_MEMLOG_MS=500: process.memoryUsage() every so often, in MiB, for profiling runs. */
function memoryLog(ms: number): void {
  if (!(ms > 0)) return;
  const mib = (b: number) => Math.round(b / 1048576);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stdout.write(`mem rss ${mib(m.rss)} heapUsed ${mib(m.heapUsed)} heapTotal ${mib(m.heapTotal)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)}\n`);
  }, ms).unref();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
