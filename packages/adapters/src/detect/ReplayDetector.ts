import type { LivescopeEventInput } from '@livescope/contracts';
import { BoundedMap } from '../common/BoundedMap.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput } from '../common/eventBuilders.js';
import { inNetworks, networkOf, PRIVATE_NETWORKS, type Cidr } from '../common/network.js';
import { sha256Hex } from '../common/sha256.js';

export const REPLAY_SOURCE = 'livescope-detector/replay';

export interface ReplayDetectorOptions {
  /** Two uses of one credential from different networks this close in time (ms) are replay. Default 1 h. */
  readonly windowMs: number;
  /**
   * The networks of each platform that binds credentials to its machines (`kubernetes` for pod-bound
   * service-account tokens, `aws-ec2` for instance-profile credentials). A bound credential used from
   * an address outside its platform's networks is replay by itself. Default: `kubernetes` = private,
   * loopback, link-local and CGNAT ranges (pods reach the API server from pod addresses); `aws-ec2` is
   * checked only when configured (instances reach AWS APIs through public NAT addresses: list your
   * egress ranges, or AWS's published ranges).
   */
  readonly platformNetworks: Readonly<Record<string, readonly Cidr[]>>;
  /** Credentials remembered (least recently seen forgotten first). Default 100 000. */
  readonly capacity: number;
}

export const defaultReplayDetectorOptions: ReplayDetectorOptions = { windowMs: 3_600_000, platformNetworks: { kubernetes: PRIVATE_NETWORKS }, capacity: 100_000 };

interface Sighting {
  readonly identityId: string;
  /** network → last use (ms) and the address seen there. */
  readonly networks: Map<string, { at: number; ip: string }>;
  reportedAt?: number;
}

/**
 * Raises `telemetry.token-replay-detected` from the network facts adapters carry (`CredentialUse`),
 * without an upstream detector: (1) one credential used from two networks within `windowMs`
 * (addresses in private ranges count as one network, the platform's own; public ones by /24 or /48),
 * (2) a credential bound to a machine (an EC2 instance profile, a pod-bound token) used from outside
 * the networks of the platform that issued it. Pure and bounded; one detection per credential per
 * window. The worker revokes the token and the sessions that carry it.
 */
export class ReplayDetector {
  private readonly seen: BoundedMap<string, Sighting>;
  private readonly o: ReplayDetectorOptions;

  constructor(options: Partial<ReplayDetectorOptions> = {}) {
    this.o = { ...defaultReplayDetectorOptions, ...options };
    this.seen = new BoundedMap(this.o.capacity);
  }

  get size(): number {
    return this.seen.size;
  }

  observe(use: CredentialUse): LivescopeEventInput[] {
    const at = Date.parse(use.time);
    const internal = inNetworks(use.sourceIp, PRIVATE_NETWORKS);
    const network = internal ? 'internal' : networkOf(use.sourceIp);
    if (!network || !Number.isFinite(at)) return [];
    const s: Sighting = this.seen.get(use.credentialId) ?? { identityId: use.identityId, networks: new Map() };
    const reported = s.reportedAt !== undefined && Math.abs(at - s.reportedAt) <= this.o.windowMs;
    const out: LivescopeEventInput[] = [];
    const raise = (evidence: string): void => {
      s.reportedAt = at;
      out.push(identityEventInput('telemetry.token-replay-detected', use.identityId, { tokenId: use.credentialId, ...(use.sessionId ? { sessionId: use.sessionId } : {}), evidence: clip(evidence, 1024) }, { id: `${use.recordKey}/replay-${sha256Hex(use.credentialId).slice(0, 12)}`, time: use.time, source: REPLAY_SOURCE }));
    };
    if (!reported && use.boundTo) {
      const networks = this.o.platformNetworks[use.boundTo.platform];
      if (networks && !inNetworks(use.sourceIp, networks)) {
        raise(`credentials bound to ${use.boundTo.machine} (${use.boundTo.platform}) used from ${use.sourceIp}, outside the platform's networks${use.action ? ` (${use.action})` : ''}`);
      }
    }
    if (!reported && out.length === 0) {
      for (const [other, seen] of s.networks) {
        if (other !== network && Math.abs(at - seen.at) <= this.o.windowMs) {
          raise(`credential used from ${seen.ip} (${other}) and ${Math.round(Math.abs(at - seen.at) / 1000)} s ${at >= seen.at ? 'later' : 'earlier'} from ${use.sourceIp} (${network})${use.action ? ` (${use.action})` : ''}`);
          break;
        }
      }
    }
    s.networks.delete(network);
    s.networks.set(network, { at: Math.max(at, s.networks.get(network)?.at ?? 0), ip: use.sourceIp });
    while (s.networks.size > 8) s.networks.delete(s.networks.keys().next().value as string);
    this.seen.set(use.credentialId, s);
    return out;
  }
}
