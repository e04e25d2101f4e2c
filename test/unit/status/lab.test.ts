import { describe, expect, it } from 'vitest';
import { labReport, labTargets, type LabTarget } from '../../../src/status/lab.js';
import { agentStatus, controlStatus, makeReport } from '../../../src/status/report.js';
import { formatStatus } from '../../../src/status/table.js';
import { agent, agentBody, control, refused } from './answers.js';

/** The processes of a `weft lab up` state file (its procs, trimmed to name and namespace). */
const PROCS = [
  { name: 'gobgpd', ns: 'weft-gateway' },
  { name: 'control', ns: 'weft-control' },
  { name: 'gateway', ns: 'weft-gateway' },
  { name: 'agent-cent222', ns: 'weft-cent222' },
  { name: 'agent-cent333', ns: 'weft-cent333' },
  { name: 'pod-webserver-1', ns: 'weft-pod-webserver-1' },
];

const TARGETS: LabTarget[] = [
  { namespace: 'weft-control', pod: 'control', name: 'control' },
  { namespace: 'weft-cent222', pod: 'vrouter', name: 'cent222' },
  { namespace: 'weft-cent333', pod: 'vrouter', name: 'cent333' },
];

/** What `weft status --json` prints inside a namespace. */
const json = (r: unknown) => ({ code: 0, stdout: `${JSON.stringify(r, null, 2)}\n`, stderr: '' });

describe('weft status --lab', () => {
  it('asks the control node and every agent of the lab, control first', () => {
    expect(labTargets(PROCS)).toEqual(TARGETS);
    expect(labTargets([...PROCS].reverse())[0]).toEqual(TARGETS[0]);
    expect(labTargets([])).toEqual([]);
  });

  it("merges each namespace's report, each node marked with its namespace", () => {
    const r = labReport([
      { target: TARGETS[0]!, ran: json(makeReport([controlStatus(control())])) },
      { target: TARGETS[1]!, ran: json(makeReport([agentStatus(agent())])) },
      { target: TARGETS[2]!, ran: json(makeReport([agentStatus(agent(agentBody('cent333')))])) },
    ]);
    expect(r.ok).toBe(true);
    expect(r.nodes.map((n) => [n.namespace, n.pod, n.id, n.state])).toEqual([
      ['weft-control', 'control', '10.169.25.19', 'active'],
      ['weft-cent222', 'vrouter', 'cent222', 'active'],
      ['weft-cent333', 'vrouter', 'cent333', 'active'],
    ]);
    expect(formatStatus(r)).toContain('== weft control ==\ncontrol: active\n\n== weft vrouter cent222 ==\nagent: active\n\n== weft vrouter cent333 ==\nagent: active\n');
  });

  it('an agent that does not answer in its namespace is inactive under its lab name', () => {
    const down = makeReport([agentStatus({ url: 'http://127.0.0.1:8085', status: refused })]);
    const r = labReport([
      { target: TARGETS[0]!, ran: { ...json(makeReport([controlStatus(control())])) } },
      { target: TARGETS[2]!, ran: { ...json(down), code: 1 } },
    ]);
    expect(r.ok).toBe(false);
    expect(r.nodes[1]).toMatchObject({ namespace: 'weft-cent333', id: 'cent333', state: 'inactive', reason: 'http://127.0.0.1:8085: connection refused' });
  });

  it('a namespace that gave no report (gone, or node failed there) still has its row, with why', () => {
    const r = labReport([
      { target: TARGETS[0]!, ran: { code: 1, stdout: '', stderr: "nsenter: cannot open /var/run/netns/weft-control: No such file or directory\n" } },
      { target: TARGETS[1]!, ran: { code: 1, stdout: '{"nodes": [{"pod": 1}]}', stderr: '' } },
      { target: TARGETS[2]!, ran: { code: -1, stdout: 'half a rep', stderr: '' } },
    ]);
    expect(r.ok).toBe(false);
    expect(r.nodes).toEqual([
      {
        pod: 'control',
        service: 'control',
        originalName: 'weft control',
        id: '-',
        namespace: 'weft-control',
        state: 'inactive',
        status: 'no answer from namespace weft-control: nsenter: cannot open /var/run/netns/weft-control: No such file or directory',
        reason: 'no answer from namespace weft-control: nsenter: cannot open /var/run/netns/weft-control: No such file or directory',
      },
      expect.objectContaining({ id: 'cent222', pod: 'vrouter', service: 'agent', state: 'inactive', reason: 'no answer from namespace weft-cent222: exit status 1' }),
      expect.objectContaining({ id: 'cent333', state: 'inactive', reason: 'no answer from namespace weft-cent333: exit status -1' }),
    ]);
  });
});
