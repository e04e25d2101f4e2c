import { agentCommand } from './agent.js';
import { bgpCommand } from './bgp.js';
import { controlCommand } from './control.js';
import { decodeCommand } from './decode.js';
import { gatewayCommand } from './gateway.js';
import { podCommand } from './pod.js';
import { processIo, type CliIo } from './io.js';
import { UsageError } from './usage.js';
import { flowCommand, mplsCommand, nhCommand, rtCommand, vifCommand } from './vrouter-tools.js';

/**
 * `weft <command> ...`. Each command is an async function of its arguments returning the
 * exit status; commands not written yet are listed in the help only.
 */

interface Command {
  summary: string;
  run?: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  decode: { summary: 'dissect a pcap/pcapng capture (BGP, XMPP, tunnels)', run: decodeCommand },
  control: { summary: 'run a control node (BGP route reflector + XMPP server)', run: controlCommand },
  agent: { summary: 'run a vRouter agent', run: agentCommand },
  pod: { summary: 'add or delete a pod on the local agent', run: podCommand },
  gateway: { summary: 'run the SDN gateway data plane (MPLSoGRE, routes from GoBGP)', run: gatewayCommand },
  lab: { summary: "the book's lab in namespaces: up, down, status", run: async (a, io) => (await import('./lab.js')).labCommand(a, io) },
  vif: { summary: 'list vRouter interfaces', run: vifCommand },
  rt: { summary: 'show vRouter routes', run: rtCommand },
  nh: { summary: 'show vRouter next hops', run: nhCommand },
  mpls: { summary: 'show the vRouter MPLS label table', run: mplsCommand },
  flow: { summary: 'show the vRouter flow table', run: flowCommand },
  bgp: { summary: 'show BGP neighbors and routes', run: bgpCommand },
  status: { summary: 'show the state of the daemons (contrail-status)', run: async (a, io) => (await import('./status.js')).statusCommand(a, io) },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}${c.run ? '' : ' (not yet available)'}`,
  );
  return `usage: weft <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'weft <command> --help' describes a command.\n`;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(help());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr.write(`weft: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (!cmd.run) {
    io.stderr.write(`weft: '${name}' is not yet available\n`);
    return 2;
  }
  try {
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`${e.message}\n\n${e.usage ?? help()}`);
      return 2;
    }
    throw e;
  }
}
