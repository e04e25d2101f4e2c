import type { LoadBalance } from '../../codecs/xmpp/index.js';
import type { AttrStore, Attrs, ExtraValue, Path } from '../rib/path.js';
import type { AgentRoute } from './route-hub.js';

/**
 * How an agent's route is held in the RIB. Next hop, LOCAL_PREF and MED are real attributes
 * (best path looks at them); the label is the path's label. The rest of the item rides in
 * `extra.agent` as plain data until the replication layer turns it into the communities of
 * section 9.1 (tunnel encapsulation, SG, tag, Router-MAC, MAC-mobility, load-balance).
 */

export interface AgentExtra {
  encapsulations: string[];
  mac: string;
  tags: number[];
  securityGroups: number[];
  communityTags: string[];
  sequenceNumber: number;
  sticky: boolean;
  loadBalance: LoadBalance;
  subProtocol: string;
}

/**
 * MED of an XMPP path whose item says 0: 100 -> 200, 200 -> 100, other x -> 0xFFFFFFFF - x, and
 * no local preference -> no MED ([C:src/bgp/bgp_xmpp_channel.cc `GetMedFromLocalPref`]).
 */
export function medFromLocalPref(localPref: number): number | undefined {
  if (localPref === 0) return undefined;
  if (localPref === 100) return 200;
  if (localPref === 200) return 100;
  return 0xffffffff - localPref;
}

export function agentPathAttrs(store: AttrStore, r: AgentRoute): Attrs {
  const agent: AgentExtra = {
    encapsulations: r.encapsulations,
    mac: r.mac,
    tags: r.tags,
    securityGroups: r.securityGroups,
    communityTags: r.communityTags,
    sequenceNumber: r.sequenceNumber,
    sticky: r.sticky,
    loadBalance: r.loadBalance,
    subProtocol: r.subProtocol,
  };
  return store.intern({
    nextHop: r.nextHop,
    localPref: r.localPreference === 0 ? undefined : r.localPreference,
    med: r.med !== 0 ? r.med : medFromLocalPref(r.localPreference),
    extra: { agent: agent as unknown as ExtraValue },
  });
}

/** The agent fields of a path, when it came from an agent (or was replicated from one). */
export function agentExtraOf(p: Path): AgentExtra | undefined {
  return p.attrs.extra['agent'] as unknown as AgentExtra | undefined;
}
