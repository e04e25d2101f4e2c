import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentStatus, controlStatus, makeReport } from '../../../src/status/report.js';
import { formatStatus } from '../../../src/status/table.js';
import { AGENT, agent, agentBody, control, ok, refused } from './answers.js';

const BOOK = readFileSync(new URL('../../../../shared/docs/seed-book-kubernetes-contrail-day-one.txt', import.meta.url), 'utf8').split('\n');

/** Where each column of a header starts. */
function columnStarts(header: string, names: readonly string[]): number[] {
  return names.map((n) => header.indexOf(n));
}

const COLUMNS = ['Pod', 'Service', 'Original Name', 'State', 'Id', 'Status'];

describe('formatStatus', () => {
  it("lays the table out as the book's contrail-status: its header, one row per process, cells under their column", () => {
    const bookHeader = BOOK[11104]!.trimEnd(); // line 11105
    expect(bookHeader).toMatch(/^Pod +Service +Original Name +State +Id +Status$/);

    const text = formatStatus(makeReport([controlStatus(control()), agentStatus(agent()), agentStatus(agent(agentBody('cent333'), 'http://127.0.0.1:8086'))]));
    const lines = text.split('\n');
    expect(lines[0]!.split(/ {2,}/)).toEqual(COLUMNS);
    const starts = columnStarts(lines[0]!, COLUMNS);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const rows = [
      ['control', 'control', 'weft control', 'active', '10.169.25.19', 'Number of connections: 3, Expected: 3 (BGP peers established: 1/1, XMPP agents: 2/2, 9 routing instances)'],
      ['vrouter', 'agent', 'weft agent', 'active', 'cent222', 'XMPP 10.169.25.19:5269 up'],
      ['vrouter', 'agent', 'weft agent', 'active', 'cent333', 'XMPP 10.169.25.19:5269 up'],
    ];
    rows.forEach((cells, r) => {
      const line = lines[r + 1]!;
      cells.forEach((cell, c) => expect(line.slice(starts[c]!).startsWith(cell), `row ${r} column ${COLUMNS[c]}: ${line}`).toBe(true));
      expect(line).toBe(line.trimEnd());
    });
    // Then the sections, as the book's "== Contrail control ==" / "control: active".
    expect(lines.slice(4).join('\n')).toBe(
      ['', '== weft control ==', 'control: active', '', '== weft vrouter cent222 ==', 'agent: active', '', '== weft vrouter cent333 ==', 'agent: active', ''].join('\n'),
    );
  });

  it('puts the reason of what is not active in parentheses, as the book does for nodemgr', () => {
    const text = formatStatus(
      makeReport([controlStatus(control({ sessions: ok([{ agent: 'cent222' }]) })), agentStatus({ url: AGENT, status: refused })]),
    );
    expect(text).toContain('\n== weft control ==\ncontrol: initializing (Number of connections: 2, Expected: 3 Missing: XMPP:cent333)\n');
    // One agent: its section needs no name, as on a compute node.
    expect(text).toContain(`\n== weft vrouter ==\nagent: inactive (${AGENT}: connection refused)\n`);
    const row = text.split('\n').find((l) => l.startsWith('vrouter'))!;
    expect(row).toMatch(new RegExp(`^vrouter +agent +weft agent +inactive +- +${AGENT.replace(/\./g, '\\.')}: connection refused$`));
  });

  it('names the node in the section of an agent that did not say its name', () => {
    const text = formatStatus(makeReport([agentStatus(agent()), agentStatus({ url: 'http://127.0.0.1:8086', status: refused })]));
    expect(text).toContain('== weft vrouter cent222 ==\nagent: active\n');
    expect(text).toContain('== weft vrouter http://127.0.0.1:8086 ==\nagent: inactive (http://127.0.0.1:8086: connection refused)\n');
  });

  it('says so when nothing was asked', () => {
    expect(formatStatus(makeReport([]))).toBe('no weft daemon asked\n');
  });
});
