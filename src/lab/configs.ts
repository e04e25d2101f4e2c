/**
 * The lab's daemon configuration files, written under /run/weft-lab: one agent file per
 * compute node (the control node reads the model file itself; the gateway's files are in
 * gateway.ts).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ControlModel } from '../config/control-model.js';
import { routingInstanceName } from '../control/config-model.js';
import { RUN_DIR } from './state.js';
import type { FabricNode, LabTopology } from './topology.js';

export const AGENT_API_PORT = 8085;

export function agentConfig(model: ControlModel, t: LabTopology, node: FabricNode): Record<string, unknown> {
  const networks = model.virtualNetworks.filter((v) => v.vxlanId !== undefined).map((v) => ({ name: routingInstanceName(v.name), 'vxlan-id': v.vxlanId }));
  return {
    name: node.name,
    vhost: { address: node.address },
    'control-nodes': [{ address: t.control.address, port: model.global.xmpp.port }],
    encapsulation: [...model.global.encapsulation],
    ...(networks.length > 0 ? { networks } : {}),
    introspect: { address: '127.0.0.1', port: AGENT_API_PORT },
  };
}

/** Writes RUN_DIR/agent-<name>.yaml; returns its path. */
export function writeAgentConfig(model: ControlModel, t: LabTopology, node: FabricNode): string {
  const file = path.join(RUN_DIR, `agent-${node.name}.yaml`);
  writeFileSync(file, `# weft lab: the ${node.name} agent\n${stringify(agentConfig(model, t, node))}`);
  return file;
}
