import { parseCidr, sourceNames, type AnnounceMode, type Cidr, type HumanMode, type RecordLayout, type SourceName } from '@livescope/adapters';
import { parseArgs } from 'node:util';
import { InteropError } from '../InteropError.js';

export interface IngestArgs {
  /** A family, or `auto` (each record's family is detected). */
  readonly source: SourceName | 'auto';
  /** A file path, `-` for stdin; absent in `--listen` mode. */
  readonly input?: string;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly layout: RecordLayout;
  readonly owner: string;
  readonly announce: AnnounceMode;
  readonly batchEvents: number;
  readonly jwksFile?: string;
  readonly audience?: string;
  readonly dryRun: boolean;
  readonly quiet: boolean;
  /** Largest HTTP body in webhook mode (bytes). */
  readonly bodyLimit: number;
  /** Kubernetes usernames (globs) that are machines / people. */
  readonly machineUsers: readonly string[];
  readonly humanUsers: readonly string[];
  readonly humans: HumanMode;
  /** Where kept records of people go (JSON lines); stdout in a dry run. */
  readonly humansOut?: string;
  /** Replay window (ms); 0 turns the replay detector off. */
  readonly replayWindowMs: number;
  /** Networks of each platform that binds credentials to machines (`aws-ec2`, `kubernetes`). */
  readonly platformNetworks: Readonly<Record<string, readonly Cidr[]>>;
}

export const INGEST_USAGE = `usage: livescope-ingest [<${sourceNames.join('|')}|auto>] <file|-> [options]
       livescope-ingest [source] --listen 127.0.0.1:PORT [options]

Reads records (JSON lines, a JSON document, a CloudTrail Records file, or JWT lines for github-oidc)
from a file or stdin, maps them to livescope events and writes them to Kafka (keyed by identity).
Without a source (or with "auto") the family of each record is detected. Malformed and unsupported
records go to the dead-letter topic; every skip and withheld control event is counted with its
reason; progress is printed on stderr.

options:
  --listen HOST:PORT        HTTP webhook mode: POST records to /ingest (202 with counts); requires
                            LIVESCOPE_INGEST_TOKEN and/or LIVESCOPE_INGEST_HMAC_SECRET (or their _FILE)
  --format auto|jsonl|json  record layout (default auto)
  --owner NAME              owner of announced identities (default unassigned)
  --announce first-seen|always|never   when to emit identity.created (default first-seen)
  --batch N                 events per Kafka write (default 500)
  --jwks FILE               github-oidc: verify JWTs against this JWKS (JSON); requires --audience
  --audience AUD            github-oidc: the aud verified tokens must carry
  --machine-users GLOBS     k8s: comma-separated usernames that are machines (e.g. 'ci-*,gitops-agent')
  --human-users GLOBS       k8s: usernames that are people even if another rule says machine
  --humans skip|keep        records of people: skip (default, counted) or keep for approval context
  --humans-out FILE         with --humans keep: where their activity goes (JSON lines)
  --replay-window-ms MS     one credential from two networks this close is replay (default 3600000; 0 = off)
  --platform-networks P=CIDRS   networks of a platform (aws-ec2, kubernetes) its bound credentials
                            may be used from, e.g. aws-ec2=54.240.0.0/16,3.0.0.0/9 (repeatable)
  --body-limit BYTES        webhook mode: largest request body, larger ones get 413 (default 10485760)
  --dry-run                 print each record's outcome, its events and dead letters as JSON lines; no Kafka
  --quiet                   no progress on stderr
environment (docs/adapters.md): LIVESCOPE_KAFKA_BROKERS and LIVESCOPE_KAFKA_SSL*/SASL_* (TLS, SASL),
  LIVESCOPE_REGISTRY_URL/USERNAME/PASSWORD/CA_FILE, LIVESCOPE_TOPIC_PREFIX, LIVESCOPE_LOG_LEVEL,
  LIVESCOPE_PRODUCER_KEY_ID + LIVESCOPE_PRODUCER_KEY[_FILE], LIVESCOPE_PRODUCER_EVENT_TYPES,
  LIVESCOPE_INGEST_TOKEN[_FILE], LIVESCOPE_INGEST_HMAC_SECRET[_FILE]`;

const fail = (message: string): never => {
  throw new InteropError('CONFIG', 'fatal', `${message}\n\n${INGEST_USAGE}`);
};

const globs = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Parses the command line of `livescope-ingest`. Pure: throws an InteropError (fatal) with the usage on bad input. */
export function parseIngestArgs(argv: readonly string[]): IngestArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        listen: { type: 'string' },
        format: { type: 'string', default: 'auto' },
        owner: { type: 'string', default: 'unassigned' },
        announce: { type: 'string', default: 'first-seen' },
        batch: { type: 'string', default: '500' },
        jwks: { type: 'string' },
        audience: { type: 'string' },
        'machine-users': { type: 'string' },
        'human-users': { type: 'string' },
        humans: { type: 'string', default: 'skip' },
        'humans-out': { type: 'string' },
        'replay-window-ms': { type: 'string', default: '3600000' },
        'platform-networks': { type: 'string', multiple: true },
        'body-limit': { type: 'string', default: String(10 * 1024 * 1024) },
        'dry-run': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return fail('');
  // The source is optional: a first argument that is no source name is the input (auto-detection).
  const named = positionals[0] !== undefined && ((sourceNames as readonly string[]).includes(positionals[0]) || positionals[0] === 'auto');
  const source = named ? (positionals[0] as SourceName | 'auto') : 'auto';
  const [input, ...extra] = named ? positionals.slice(1) : positionals;
  if (extra.length) return fail(`unexpected arguments: ${extra.join(' ')}`);
  let listen: IngestArgs['listen'];
  if (v.listen !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v.listen);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) return fail(`--listen must be HOST:PORT, got ${v.listen}`);
    if (input !== undefined) return fail('--listen takes no input file');
    listen = { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (!listen && input === undefined) return fail(named ? 'give a file, - for stdin, or --listen HOST:PORT' : `give a source (${sourceNames.join(', ')}, auto) and a file, or just a file`);
  if (!['auto', 'jsonl', 'json'].includes(v.format)) return fail(`--format must be auto, jsonl or json, got ${v.format}`);
  if (!['first-seen', 'always', 'never'].includes(v.announce)) return fail(`--announce must be first-seen, always or never, got ${v.announce}`);
  const batch = Number(v.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) return fail(`--batch must be an integer from 1 to 100000, got ${v.batch}`);
  const bodyLimit = Number(v['body-limit']);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) return fail(`--body-limit must be an integer of at least 1024, got ${v['body-limit']}`);
  if ((v.jwks || v.audience) && source !== 'github-oidc' && source !== 'auto') return fail('--jwks and --audience apply to github-oidc (or auto) only');
  if (v.jwks && !v.audience) return fail('--jwks requires --audience: a verifier that accepts any audience accepts tokens minted for someone else');
  if (v.audience && !v.jwks) return fail('--audience is checked only when verifying: give --jwks too');
  if ((v['machine-users'] || v['human-users']) && source !== 'k8s' && source !== 'auto') return fail('--machine-users and --human-users apply to k8s (or auto) only');
  if (!['skip', 'keep'].includes(v.humans)) return fail(`--humans must be skip or keep, got ${v.humans}`);
  if (v.humans === 'keep' && !v['humans-out'] && !v['dry-run']) return fail('--humans keep needs --humans-out FILE (or --dry-run, which prints them)');
  if (v['humans-out'] && v.humans !== 'keep') return fail('--humans-out applies with --humans keep');
  const replayWindowMs = Number(v['replay-window-ms']);
  if (!Number.isInteger(replayWindowMs) || replayWindowMs < 0) return fail(`--replay-window-ms must be a non-negative integer, got ${v['replay-window-ms']}`);
  const platformNetworks: Record<string, Cidr[]> = {};
  for (const spec of v['platform-networks'] ?? []) {
    const m = /^([a-z0-9-]+)=(.+)$/.exec(spec);
    if (!m) return fail(`--platform-networks must be PLATFORM=CIDR[,CIDR…], got ${spec}`);
    try {
      platformNetworks[m[1]!] = [...(platformNetworks[m[1]!] ?? []), ...globs(m[2]).map(parseCidr)];
    } catch (e) {
      return fail(`--platform-networks: ${(e as Error).message}`);
    }
  }
  if (!v.owner) return fail('--owner must not be empty');
  return {
    source,
    ...(input !== undefined ? { input } : {}),
    ...(listen ? { listen } : {}),
    layout: v.format as RecordLayout,
    owner: v.owner,
    announce: v.announce as AnnounceMode,
    batchEvents: batch,
    ...(v.jwks ? { jwksFile: v.jwks } : {}),
    ...(v.audience ? { audience: v.audience } : {}),
    dryRun: v['dry-run'],
    quiet: v.quiet,
    bodyLimit,
    machineUsers: globs(v['machine-users']),
    humanUsers: globs(v['human-users']),
    humans: v.humans as HumanMode,
    ...(v['humans-out'] ? { humansOut: v['humans-out'] } : {}),
    replayWindowMs,
    platformNetworks,
  };
}
