/** `mpls --dump` / `mpls --get <label>` in the vRouter utility's layout. */
export function formatMplsTable(entries: readonly { label: number; nh: number }[]): string {
  const out = ['MPLS Input Label Map', '', '   Label    NextHop', '------------------'];
  for (const e of entries) out.push(`${String(e.label).padStart(8)}    ${String(e.nh).padStart(6)}`);
  out.push('');
  return out.join('\n');
}
