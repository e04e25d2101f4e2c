import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LAB_CONFIG, labDown, labStatus, labUp } from '../lab/lab.js';
import { parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';

export const LAB_USAGE = `usage: weft lab up [--config FILE]
       weft lab down
       weft lab status [--json]

The book's lab (../shared/docs/book-lab.md) in network namespaces on this machine, as root:
the control node (weft-control), two compute nodes with vRouter agents and pods
(weft-cent222, weft-cent333, pods in weft-pod-<name>), the SDN gateway (gobgpd and the
weft gateway data plane in weft-gateway) and an Internet host (weft-internet).

  up        build it and wait until every session and route is there; if it is already
            up and healthy, say so; if something is left from an earlier run, remove it first
  down      stop every lab process and delete every weft-* namespace (also after a crash)
  status    each process, namespace, BGP/XMPP session and pod; exit 0 when healthy

  --config FILE   the control-node model (default ${DEFAULT_LAB_CONFIG})
  --json          status as JSON

Logs, configuration files and state: /run/weft-lab. Needs gobgpd (apt-get install gobgpd).
`;

/** The clone this command runs from (dist/src/cli -> repo). */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function labCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('lab', LAB_USAGE, {
    args,
    allowPositionals: true,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(LAB_USAGE);
    return 0;
  }
  const [verb, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`weft lab: unexpected ${extra.join(' ')}`, LAB_USAGE);
  const cx = { repo: REPO, io };
  switch (verb) {
    case 'up':
      return labUp(v.config ?? path.join(REPO, DEFAULT_LAB_CONFIG), cx);
    case 'down':
      if (v.config !== undefined) throw new UsageError('weft lab down: takes no --config (it removes whatever the lab made)', LAB_USAGE);
      return labDown(cx);
    case 'status':
      return labStatus(v.json === true, cx);
    default:
      throw new UsageError(verb === undefined ? 'weft lab: up, down or status?' : `weft lab: unknown subcommand '${verb}'`, LAB_USAGE);
  }
}
