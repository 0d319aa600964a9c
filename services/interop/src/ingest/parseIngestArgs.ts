import { sourceNames, type AnnounceMode, type RecordLayout, type SourceName } from '@livescope/adapters';
import { parseArgs } from 'node:util';
import { InteropError } from '../InteropError.js';

export interface IngestArgs {
  readonly source: SourceName;
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
}

export const INGEST_USAGE = `usage: livescope-ingest <${sourceNames.join('|')}> [file|-] [options]
       livescope-ingest <source> --listen 127.0.0.1:PORT [options]

Reads records (JSON lines, a JSON document, a CloudTrail Records file, or JWT lines for github-oidc)
from a file or stdin, maps them to livescope events and writes them to Kafka (keyed by identity).
Malformed and unsupported records go to the dead-letter topic; progress is printed on stderr.

options:
  --listen HOST:PORT        HTTP webhook mode: POST records to /ingest (202 with counts)
  --format auto|jsonl|json  record layout (default auto)
  --owner NAME              owner of announced identities (default unassigned)
  --announce first-seen|always|never   when to emit identity.created (default first-seen)
  --batch N                 events per Kafka write (default 500)
  --jwks FILE               github-oidc: verify JWTs against this JWKS (JSON)
  --audience AUD            github-oidc: required aud of verified JWTs
  --body-limit BYTES        webhook mode: largest request body (default 10485760)
  --dry-run                 print events and dead letters as JSON lines on stdout; no Kafka
  --quiet                   no progress on stderr
environment: LIVESCOPE_KAFKA_BROKERS, LIVESCOPE_REGISTRY_URL, LIVESCOPE_TOPIC_PREFIX, LIVESCOPE_LOG_LEVEL`;

const fail = (message: string): never => {
  throw new InteropError('CONFIG', 'fatal', `${message}\n\n${INGEST_USAGE}`);
};

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
  const [source, input, ...extra] = positionals;
  if (!source || !(sourceNames as readonly string[]).includes(source)) return fail(`the first argument must be a source: ${sourceNames.join(', ')}`);
  if (extra.length) return fail(`unexpected arguments: ${extra.join(' ')}`);
  let listen: IngestArgs['listen'];
  if (v.listen !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v.listen);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) return fail(`--listen must be HOST:PORT, got ${v.listen}`);
    if (input !== undefined) return fail('--listen takes no input file');
    listen = { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (!listen && input === undefined) return fail('give a file, - for stdin, or --listen HOST:PORT');
  if (!['auto', 'jsonl', 'json'].includes(v.format)) return fail(`--format must be auto, jsonl or json, got ${v.format}`);
  if (!['first-seen', 'always', 'never'].includes(v.announce)) return fail(`--announce must be first-seen, always or never, got ${v.announce}`);
  const batch = Number(v.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) return fail(`--batch must be an integer from 1 to 100000, got ${v.batch}`);
  const bodyLimit = Number(v['body-limit']);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) return fail(`--body-limit must be an integer of at least 1024, got ${v['body-limit']}`);
  if ((v.jwks || v.audience) && source !== 'github-oidc') return fail('--jwks and --audience apply to github-oidc only');
  if (!v.owner) return fail('--owner must not be empty');
  return {
    source: source as SourceName,
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
  };
}
