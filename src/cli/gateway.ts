import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { advertisedPrefixes, gatewayConfigSchema, gobgpdOptionsOf, type GatewayConfig } from '../gateway/config.js';
import { gobgpdArgs, gobgpdConfig } from '../gateway/gobgpd-config.js';
import { parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';

export const GATEWAY_USAGE = `usage: weft gateway --config <file> [--check | --gobgpd-config | --gobgpd-args <toml>]

Run the SDN gateway's data plane next to gobgpd (its BGP speaker): a NOARP TAP (weft-gw0)
into which the kernel routes the floating-IP pools, MPLSoGRE to and from the compute nodes
from the gateway loopback, the VRF routes read from GoBGP every poll, and the Internet
networks advertised into the VRF with the gateway's label (withdrawn on exit). HTTP
introspect (default 127.0.0.1:8086): /status /routes /drops. Needs root (TAP, raw sockets,
policy routing). SIGTERM or SIGINT stops it.

  --config FILE          the YAML configuration (local-address, bgp, vrf, internet,
                         advertise, tap, gobgp, introspect)
  --check                validate the configuration and exit
  --gobgpd-config        print the gobgpd TOML for this gateway and exit
  --gobgpd-args TOML     print gobgpd's arguments (one per line) for that TOML file and exit
`;

export async function gatewayCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('gateway', GATEWAY_USAGE, {
    args,
    options: {
      config: { type: 'string', short: 'c' },
      check: { type: 'boolean' },
      'gobgpd-config': { type: 'boolean' },
      'gobgpd-args': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (parsed.values.help) {
    io.stdout.write(GATEWAY_USAGE);
    return 0;
  }
  const file = parsed.values.config;
  if (file === undefined) throw new UsageError('weft gateway: --config <file> is required', GATEWAY_USAGE);
  let config: GatewayConfig;
  try {
    config = await loadConfigFile(file, gatewayConfigSchema);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`${e.message}\nweft gateway: ${file}: ${e.issues.length} error${e.issues.length === 1 ? '' : 's'}, nothing started\n`);
    return 1;
  }
  if (parsed.values['gobgpd-config']) {
    io.stdout.write(gobgpdConfig(gobgpdOptionsOf(config)));
    return 0;
  }
  const toml = parsed.values['gobgpd-args'];
  if (toml !== undefined) {
    io.stdout.write(`${gobgpdArgs(gobgpdOptionsOf(config), toml).join('\n')}\n`);
    return 0;
  }
  const summary = `${config.name}: ${config.localAddress}, VRF ${config.vrf.name} rd ${config.vrf.rd} import ${config.vrf.import.join(',')}, advertising ${advertisedPrefixes(config).join(',')} label ${config.advertise.label}`;
  if (parsed.values.check) {
    io.stdout.write(`${file}: ok: gateway ${summary}\n`);
    return 0;
  }
  let stop: (why: string) => void = () => undefined;
  const until = new Promise<string>((r) => (stop = r));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const { GatewayService } = await import('../gateway/service.js');
  const svc = new GatewayService(config, (line) => io.stdout.write(`weft gateway: ${line}\n`));
  try {
    await svc.start();
  } catch (e) {
    await svc.stop().catch(() => undefined);
    io.stderr.write(`weft gateway: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`weft gateway: ${summary}\nweft gateway: TAP ${config.tap.name}, GoBGP API ${svc.gobgp.target}; introspect on ${svc.url}\n`);
  const why = await until;
  io.stdout.write(`weft gateway: ${why}, stopping\n`);
  await svc.stop();
  io.stdout.write('weft gateway: stopped\n');
  setTimeout(() => process.exit(0), 3000).unref();
  return 0;
}
