import { parseArgs } from 'node:util';
import type { AgentFileConfig } from '../agent/config.js';
import { agentConfigSchema } from '../agent/config.js';
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage.js';

export const AGENT_USAGE = `usage: weft agent --config <file> [--check]

Run a vRouter agent: XMPP to the control nodes, the data plane (pod TAPs, MPLSoUDP on
6635/51234, VXLAN on 4789, MPLSoGRE on a raw socket, all bound to the vhost address)
and the agent API (default 127.0.0.1:8085) that \`weft pod\` and the table tools use.
Needs root (TAPs, raw sockets, namespaces). SIGTERM or SIGINT stops it and deletes its pods.

  --config FILE   the YAML configuration (name, vhost, control-nodes, encapsulation,
                  networks with vxlan-id, introspect, dataplane, tls: {cert, key, ca}
                  for XMPP over TLS)
  --check         validate the configuration and exit
`;

export async function agentCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (e) {
    throw new UsageError(`weft agent: ${(e as Error).message}`, AGENT_USAGE);
  }
  if (parsed.values.help) {
    io.stdout.write(AGENT_USAGE);
    return 0;
  }
  const file = parsed.values.config;
  if (file === undefined) throw new UsageError('weft agent: --config <file> is required', AGENT_USAGE);
  let config: AgentFileConfig;
  try {
    config = await loadConfigFile(file, agentConfigSchema);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`${e.message}\nweft agent: ${file}: ${e.issues.length} error${e.issues.length === 1 ? '' : 's'}, nothing started\n`);
    return 1;
  }
  if (parsed.values.check) {
    io.stdout.write(`${file}: ok: agent ${config.name}, vhost ${config.vhost.address}, ${config.controlNodes.length} control node(s), encapsulation ${config.encapsulation.join(' > ')}\n`);
    return 0;
  }
  let stop: (why: string) => void = () => undefined;
  const until = new Promise<string>((r) => (stop = r));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const { AgentService } = await import('../agent/service.js');
  let svc;
  try {
    svc = new AgentService(config, (line) => io.stdout.write(`weft agent: ${line}\n`));
    await svc.start();
  } catch (e) {
    await svc?.stop().catch(() => undefined);
    io.stderr.write(`weft agent: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(
    `weft agent: ${config.name} vhost ${config.vhost.address}, control nodes ${config.controlNodes.map((c) => `${c.address}:${c.port}`).join(', ')}, encapsulation ${config.encapsulation.join(' > ')}\n` +
      `weft agent: UDP source ports ${svc.dataplane.udpSourcePorts.join(',')}; API on ${svc.url}\n`,
  );
  const why = await until;
  io.stdout.write(`weft agent: ${why}, stopping\n`);
  await svc.stop();
  // A handle something forgot must not keep a stopped agent alive.
  setTimeout(() => process.exit(0), 3000).unref();
  return 0;
}
