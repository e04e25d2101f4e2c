/** max-prefix.restart reaches the speaker: the YAML's seconds become maxPrefixRestart. */
import { describe, expect, it } from 'vitest';
import { ConfigError, checkNeighbor } from '../../../src/bgp/speaker-config.js';
import { neighborSchema, resolveNeighbor, toSpeakerNeighbor } from '../../../src/config/bgp-speaker.js';
import { validateJson } from '../../../src/config/index.js';

const GLOBAL = { holdTime: 90, families: ['ipv4-unicast' as const] };

function speakerNeighbor(json: unknown) {
  const r = validateJson(json, neighborSchema);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return toSpeakerNeighbor(resolveNeighbor(r.value, GLOBAL));
}

describe('max-prefix in the speaker config', () => {
  it('carries limit and restart', () => {
    const n = speakerNeighbor({ address: '10.0.0.2', 'remote-as': 64512, 'max-prefix': { limit: 100, restart: 2 } });
    expect(n).toMatchObject({ maxPrefix: 100, maxPrefixRestart: 2 });
    expect(() => checkNeighbor(n, 'n')).not.toThrow();
  });

  it('leaves restart out when the file does (stay down until cleared)', () => {
    const n = speakerNeighbor({ address: '10.0.0.2', 'remote-as': 64512, 'max-prefix': { limit: 100 } });
    expect(n.maxPrefix).toBe(100);
    expect('maxPrefixRestart' in n).toBe(false);
  });

  it('the speaker refuses a restart out of range or without a limit', () => {
    expect(() => checkNeighbor({ address: '10.0.0.2', remoteAs: 1, maxPrefix: 5, maxPrefixRestart: 0 }, 'n')).toThrow(new ConfigError('n.maxPrefixRestart', 'must be an integer in 1..86400'));
    expect(() => checkNeighbor({ address: '10.0.0.2', remoteAs: 1, maxPrefixRestart: 5 }, 'n')).toThrow(new ConfigError('n.maxPrefixRestart', 'needs maxPrefix'));
  });
});
