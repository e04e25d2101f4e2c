import { readFile } from 'node:fs/promises';
import { CONTROL_MODEL_KEYS, controlModelSchema } from '../config/control-model.js';
import type { ControlModel } from '../config/control-model.js';
import { parseYamlInput } from '../config/input.js';
import { bgpConfigSchema, toSpeakerConfig } from '../config/bgp-speaker.js';
import type { BgpConfig } from '../config/bgp-speaker.js';
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { startIntrospect } from '../introspect/server.js';
import { parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';

export const CONTROL_USAGE = `usage: weft control --config <file> [--check]

Run a control node. A control-model file (docs/config-control.md: virtual networks,
ports, vrouters, bgp-routers...) starts the whole node: BGP speaker, XMPP server for
agents, routing instances, introspect and the model's REST API. A BGP-speaker file
(docs/config-bgp.md, global.local-as) starts the route reflector and its introspect API. SIGTERM or SIGINT stops it cleanly
(a Cease NOTIFICATION to every peer).

  --config FILE   the YAML configuration
  --check         validate the configuration, print a summary and exit

Exit status: 0 after a clean stop (or a valid --check), 1 when the configuration is
invalid or a socket cannot be opened, 2 on bad usage.
`;

export interface ControlHooks {
  /** Resolves when the node should stop; default: the first SIGTERM or SIGINT. */
  until?: Promise<unknown>;
  /** Called once everything listens (tests learn the ports chosen for port 0). */
  onReady?: (info: { bgpPort: number | undefined; introspectUrl: string; xmppPort?: number; restUrl?: string }) => void;
}

export async function controlCommand(args: string[], io: CliIo): Promise<number> {
  const code = await runControl(args, io);
  // Everything is closed by now; a socket or timer something forgot to release must not keep
  // a stopped daemon alive (unref: a clean exit happens first and never sees this).
  setTimeout(() => process.exit(code), 3000).unref();
  return code;
}

export async function runControl(args: string[], io: CliIo, hooks: ControlHooks = {}): Promise<number> {
  const parsed = parseCommandArgs('control', CONTROL_USAGE, {
    args,
    options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (parsed.values.help) {
    io.stdout.write(CONTROL_USAGE);
    return 0;
  }
  const file = parsed.values.config;
  if (file === undefined) throw new UsageError('weft control: --config <file> is required', CONTROL_USAGE);

  if (await isControlModelFile(file)) return runControlModel(file, parsed.values.check === true, io, hooks);

  let config: BgpConfig;
  try {
    config = await loadConfigFile(file, bgpConfigSchema);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`${e.message}\nweft control: ${file}: ${e.issues.length} error${e.issues.length === 1 ? '' : 's'}, nothing started\n`);
    return 1;
  }
  const g = config.global;
  if (parsed.values.check) {
    io.stdout.write(`${file}: ok: AS ${g.localAs}, router-id ${g.routerId}, ${config.neighbors.length} neighbor(s), ${Object.keys(config.policies).length} polic${Object.keys(config.policies).length === 1 ? 'y' : 'ies'}\n`);
    return 0;
  }

  // Listen for the stop signal before anything starts, so an early SIGTERM is not lost.
  const signals = hooks.until ? undefined : stopSignals();
  const until = hooks.until ?? signals!.promise;
  // Loaded here, not at the top: every other weft command would pay for the speaker's modules.
  const { Speaker } = await import('../bgp/speaker.js');
  let speaker: InstanceType<typeof Speaker> | undefined;
  let introspect;
  try {
    speaker = new Speaker(toSpeakerConfig(config));
    await speaker.start();
    introspect = await startIntrospect({ speaker, config, address: config.introspect.address, port: config.introspect.port });
  } catch (e) {
    await speaker?.stop().catch(() => undefined);
    signals?.dispose();
    io.stderr.write(`weft control: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(
    `weft control: BGP AS ${g.localAs} router-id ${g.routerId} on ${g.listen.address}:${speaker.listenPort ?? g.listen.port}, ${config.neighbors.length} neighbor(s)\n` +
      `weft control: introspect on ${introspect.url}\n`,
  );
  hooks.onReady?.({ bgpPort: speaker.listenPort, introspectUrl: introspect.url });

  const why = await until;
  io.stdout.write(`weft control: ${typeof why === 'string' ? why : 'stop'}, stopping\n`);
  signals?.dispose();
  await Promise.all([speaker.stop(), introspect.server.close()]);
  return 0;
}

/** A control-model file (docs/config-control.md) rather than a BGP-speaker one (docs/config-bgp.md). */
async function isControlModelFile(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false; // the BGP loader reports the read error
  }
  const root = parseYamlInput(text, file).root;
  if (root?.kind !== 'map') return false;
  if (root.entries.some((e) => CONTROL_MODEL_KEYS.includes(e.key))) return true;
  const g = root.entries.find((e) => e.key === 'global')?.value;
  return g?.kind === 'map' && !g.entries.some((e) => e.key === 'local-as');
}

async function runControlModel(file: string, check: boolean, io: CliIo, hooks: ControlHooks): Promise<number> {
  let model: ControlModel;
  try {
    model = await loadConfigFile(file, controlModelSchema);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`${e.message}\nweft control: ${file}: ${e.issues.length} error${e.issues.length === 1 ? '' : 's'}, nothing started\n`);
    return 1;
  }
  const g = model.global;
  if (check) {
    io.stdout.write(`${file}: ok: AS ${g.asn}, router-id ${g.routerId}, ${model.virtualNetworks.length} virtual network(s), ${model.ports.length} port(s), ${model.bgpRouters.length} BGP router(s), ${model.vrouters.length} vRouter(s)\n`);
    return 0;
  }
  const signals = hooks.until ? undefined : stopSignals();
  const until = hooks.until ?? signals!.promise;
  const { ControlNode } = await import('../control/node.js');
  const node = new ControlNode(model);
  try {
    await node.start();
  } catch (e) {
    signals?.dispose();
    io.stderr.write(`weft control: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(
    `weft control: BGP AS ${g.asn} router-id ${g.routerId} on ${g.bgp.address}:${node.bgpPort ?? g.bgp.port}, ${model.bgpRouters.length} BGP router(s)\n` +
      `weft control: XMPP on ${g.xmpp.address}:${node.xmppPort}${g.xmpp.tls ? " (TLS required)" : ""}, ${node.instances.list().length} routing instance(s)\n` +
      `weft control: introspect on ${node.introspectUrl}, REST API on ${node.restUrl}/api\n`,
  );
  hooks.onReady?.({ bgpPort: node.bgpPort, introspectUrl: node.introspectUrl, xmppPort: node.xmppPort, restUrl: node.restUrl });
  const why = await until;
  io.stdout.write(`weft control: ${typeof why === 'string' ? why : 'stop'}, stopping\n`);
  signals?.dispose();
  await node.stop();
  return 0;
}

function stopSignals(): { promise: Promise<string>; dispose(): void } {
  let onSignal: (s: NodeJS.Signals) => void = () => undefined;
  const promise = new Promise<string>((resolve) => {
    onSignal = (s) => resolve(s);
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    promise,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
