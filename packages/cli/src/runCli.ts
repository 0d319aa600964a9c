import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import { ConfigError, kafkaConnection, kafkaOptions, loadConfig, registryAuth, registryOptions, topicPrefixOption } from '@livescope/runtime';
import { Enforcer } from '@livescope/enforcer';
import { sleep } from '@livescope/errors';
import { Store } from '@livescope/store';
import { createLogger, parsePublicKey, type VerifyingKey } from '@livescope/transport';
import { pino } from 'pino';
import type * as S from '@livescope/control-plane/api-types';
import { ApiClient, ApiError } from './ApiClient.js';
import { defaultDevKeysPath, loadOrCreateDevApiKey, mintDevToken } from './devKeys.js';
import { ExitCode, parseDuration, parseTarget, UsageError } from './parse.js';
import type { CommandContext } from './CommandContext.js';
import { completionScript, completionShells, type CompletionShell } from './completion.js';
import { positiveInt, registerFleetCommands } from './fleetCommands.js';
import { follow } from './follow.js';
import { registerLoginCommands } from './loginCommands.js';
import { registerPolicyCommands } from './policyCommands.js';
import * as R from './render.js';
import { allRoles, type Role } from './roles.js';
import { loadToken, tokenPath } from './tokenStore.js';
import { cliVersion } from './version.js';

/** Where the CLI writes and what it reads; the bin passes the process's, tests their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress lines rewrite themselves). */
  readonly isTTY?: boolean;
  readonly fetch?: typeof fetch;
  /** Aborts long-running commands (`alerts --follow`, `--wait`): Ctrl-C. */
  readonly signal?: AbortSignal;
}

class WaitTimeout extends Error {}

interface GlobalOptions {
  api?: string;
  token?: string;
  json?: boolean;
}

const DEFAULT_API = 'http://127.0.0.1:8787';
/** Attempts of an order or lift whose answer is 503, 429 or lost (first included), all under one idempotency key. */
const ORDER_ATTEMPTS = 4;
const ORDER_RETRY_BASE_MS = 1000;
const ORDER_RETRY_MAX_MS = 30_000;

/**
 * The `livescope` command line. Returns the exit code: 0 ok, 1 error, 2 usage, 3 unauthenticated
 * or forbidden, 4 a bounded wait ran out.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Only as the first argument: commander would take a program-level --version anywhere on the
  // line, and `scope <id> --version N` is the scope's version.
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.stdout(`${cliVersion()}\n`);
    return ExitCode.ok;
  }
  // Under --json every failure is one JSON line on stderr (exitCodeOf), commander's usage messages included.
  const dashDash = argv.indexOf('--');
  const json = (dashDash < 0 ? argv : argv.slice(0, dashDash)).includes('--json');
  let code: number = ExitCode.ok;
  const signal = io.signal ?? new AbortController().signal;
  const program = new Command('livescope')
    .description('Responder and SOC command line of livescope: orders, scope views, explanations, alerts, enforcement points.')
    .option('--api <url>', 'control-plane API base URL (env LIVESCOPE_API_URL)')
    .option('--token <jwt>', 'bearer token (env LIVESCOPE_TOKEN; default: the one livescope login stored for this API)')
    .option('--json', 'print the API answers as JSON, and any failure as one JSON line on stderr (for scripts)')
    .addHelpText('after', '\nlivescope --version (or -V) prints the version of this CLI.')
    .showHelpAfterError(!json)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => (json ? undefined : write(text)) });

  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const apiUrl = (): string => g().api ?? io.env.LIVESCOPE_API_URL ?? DEFAULT_API;
  // A token given wins; else the one `livescope login` stored for this very API (never sent to another).
  const client = (): ApiClient => new ApiClient(apiUrl(), g().token ?? io.env.LIVESCOPE_TOKEN ?? loadToken(tokenPath(io.env), apiUrl())?.accessToken, io.fetch ?? fetch);
  const print = (json: unknown, human: () => string): void => io.stdout(g().json ? `${JSON.stringify(json, null, 2)}\n` : human());

  /** Waits until the order (or its lift) is complete and applied by `wanted` enforcement points, printing progress. */
  const waitFor = async (api: ApiClient, orderId: string, wanted: number | undefined, timeoutMs: number): Promise<S.OrderStatus> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    try {
      while (!signal.aborted) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        const pollMs = Math.min(5000, remaining);
        const status = await api.get<S.OrderStatus>(`/v1/orders/${encodeURIComponent(orderId)}/status`, { waitMs: pollMs, enforcers: wanted }, pollMs + 15_000);
        const line = R.progressLine(status);
        if (line !== last) {
          io.stderr(io.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
          last = line;
        }
        if (status.satisfied) return status;
      }
    } finally {
      if (io.isTTY && last) io.stderr('\n');
    }
    throw new WaitTimeout(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for order ${orderId}${wanted !== undefined ? ` to be applied by ${wanted} enforcement point(s)` : ''}`);
  };

  const waitOptions = (c: Command): Command =>
    c
      .option('--wait [enforcers]', 'wait until the workers processed it and N enforcement points applied it (default: every known one)')
      .option('--timeout <duration>', 'longest --wait', '60s');
  const wanted = (w: unknown): number | undefined => {
    if (w === undefined || w === true) return undefined;
    const n = Number(w);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--wait: expected a number of enforcement points, got ${JSON.stringify(w)}`);
    return n;
  };

  /**
   * POSTs an order or a lift under one idempotency key (`--idempotency-key`, or a new one), sending
   * it again after a 503, a 429 or a lost answer: the API publishes it at most once.
   */
  const postOnce = async <T>(api: ApiClient, path: string, body: unknown, key: string | undefined): Promise<T> => {
    const idempotencyKey = key ?? randomUUID();
    try {
      return await api.postIdempotent<T>(path, body, {
        idempotencyKey,
        attempts: ORDER_ATTEMPTS,
        baseDelayMs: ORDER_RETRY_BASE_MS,
        maxDelayMs: ORDER_RETRY_MAX_MS,
        signal,
        onRetry: (e, attempt, delayMs) => io.stderr(`livescope: ${e.message}; sending it again with the same idempotency key ${idempotencyKey} in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt} of ${ORDER_ATTEMPTS})\n`),
      });
    } catch (e) {
      if (e instanceof ApiError && e.retriable) {
        throw new ApiError(e.status, e.code, `${e.message} — gave up; to get this same request's answer (never a second one), run the command again with --idempotency-key ${idempotencyKey}`, e.paths);
      }
      throw e;
    }
  };
  const idempotencyOption = (c: Command): Command =>
    c.option('--idempotency-key <key>', 'retry key of this request (default: a new one); the same key with the same request gets the first answer again instead of a second order');

  const issue = async (body: Record<string, unknown>, opts: { wait?: unknown; timeout: string; idempotencyKey?: string }): Promise<void> => {
    const api = client();
    const accepted = await postOnce<S.OrderAccepted>(api, '/v1/orders', body, opts.idempotencyKey);
    if (opts.wait === undefined) return print(accepted, () => R.renderOrderAccepted(accepted));
    if (!g().json) io.stdout(R.renderOrderAccepted(accepted));
    const status = await waitFor(api, accepted.orderId, wanted(opts.wait), parseDuration(opts.timeout, '--timeout'));
    print({ accepted, status }, () => R.renderStatus(status));
  };
  const ttlOf = (ttl: string | undefined): { ttlSeconds?: number } => (ttl === undefined ? {} : { ttlSeconds: Math.max(1, Math.round(parseDuration(ttl, '--ttl') / 1000)) });
  const targetOptions = (c: Command): Command => c.option('--selector <k=v,...>', 'target identities by kind, namespace, owner, role, label.<name>').option('--all', 'target every identity');

  idempotencyOption(waitOptions(
    targetOptions(program.command('narrow').argument('[identity]', 'identity id').description('make the target read-only (order kind read-only)'))
      .requiredOption('--reason <text>', 'why (audited)')
      .option('--ttl <duration>', 'expires after, e.g. 2h (default: until lifted)'),
  )).action(async (identity: string | undefined, opts: { selector?: string; all?: boolean; reason: string; ttl?: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
    await issue({ kind: 'read-only', target: parseTarget(identity, opts), reason: opts.reason, ...ttlOf(opts.ttl) }, opts);
  });

  idempotencyOption(waitOptions(
    targetOptions(program.command('deny').argument('[identity]', 'identity id').description('remove actions from the target scope (order kind deny-actions)'))
      .requiredOption('--actions <a,b>', 'comma-separated actions to deny')
      .requiredOption('--reason <text>', 'why (audited)')
      .option('--ttl <duration>', 'expires after (default: until lifted)'),
  )).action(async (identity: string | undefined, opts: { selector?: string; all?: boolean; actions: string; reason: string; ttl?: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
    const actions = opts.actions.split(',').map((a) => a.trim()).filter(Boolean);
    await issue({ kind: 'deny-actions', target: parseTarget(identity, opts), actions, reason: opts.reason, ...ttlOf(opts.ttl) }, opts);
  });

  idempotencyOption(waitOptions(
    targetOptions(program.command('quarantine').argument('[identity]', 'identity id').description('remove every permission and revoke sessions, tokens and leases now'))
      .requiredOption('--reason <text>', 'why (audited)')
      .option('--ttl <duration>', 'expires after (default: until lifted)'),
  )).action(async (identity: string | undefined, opts: { selector?: string; all?: boolean; reason: string; ttl?: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
    await issue({ kind: 'quarantine', target: parseTarget(identity, opts), reason: opts.reason, ...ttlOf(opts.ttl) }, opts);
  });

  idempotencyOption(waitOptions(
    program
      .command('revoke-secret')
      .argument('<secretPath>', 'the secret whose leases die')
      .description('revoke every lease of a secret (all holders, or --identity / --selector)')
      .option('--identity <id>', 'only this identity')
      .option('--selector <k=v,...>', 'only identities matching')
      .requiredOption('--reason <text>', 'why (audited)'),
  )).action(async (secretPath: string, opts: { identity?: string; selector?: string; reason: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
    const target = opts.identity === undefined && opts.selector === undefined ? { all: true as const } : parseTarget(opts.identity, opts);
    await issue({ kind: 'revoke-secret-leases', target, secretPath, reason: opts.reason }, opts);
  });

  idempotencyOption(waitOptions(program.command('revoke-session').argument('<identity>').argument('<sessionId>').description('end and revoke one session').requiredOption('--reason <text>', 'why (audited)'))).action(
    async (identity: string, sessionId: string, opts: { reason: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
      await issue({ kind: 'revoke-session', target: { identityId: identity }, sessionId, reason: opts.reason }, opts);
    },
  );

  idempotencyOption(waitOptions(program.command('revoke-token').argument('<identity>').argument('<tokenId>').description('revoke a token and the sessions using it').requiredOption('--reason <text>', 'why (audited)'))).action(
    async (identity: string, tokenId: string, opts: { reason: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
      await issue({ kind: 'revoke-token', target: { identityId: identity }, tokenId, reason: opts.reason }, opts);
    },
  );

  idempotencyOption(waitOptions(program.command('lift').argument('<orderId>').description('lift an order (your own as responder; any as approver)').option('--reason <text>', 'why (audited)'))).action(
    async (orderId: string, opts: { reason?: string; wait?: unknown; timeout: string; idempotencyKey?: string }) => {
      const api = client();
      const accepted = await postOnce<S.LiftAccepted>(api, `/v1/orders/${encodeURIComponent(orderId)}/lift`, opts.reason !== undefined ? { reason: opts.reason } : {}, opts.idempotencyKey);
      if (opts.wait === undefined) return print(accepted, () => R.renderLiftAccepted(accepted));
      if (!g().json) io.stdout(R.renderLiftAccepted(accepted));
      const status = await waitFor(api, orderId, wanted(opts.wait), parseDuration(opts.timeout, '--timeout'));
      print({ accepted, status }, () => R.renderStatus(status));
    },
  );

  waitOptions(program.command('order').argument('<orderId>').description('progress of an order: identities changed, enforcement points that applied it')).action(async (orderId: string, opts: { wait?: unknown; timeout: string }) => {
    const api = client();
    const status = opts.wait === undefined ? await api.get<S.OrderStatus>(`/v1/orders/${encodeURIComponent(orderId)}/status`) : await waitFor(api, orderId, wanted(opts.wait), parseDuration(opts.timeout, '--timeout'));
    print(status, () => R.renderStatus(status));
  });

  program
    .command('orders')
    .description('orders in force')
    .action(async () => {
      const { first, items } = await client().getAll<S.OrdersList, S.ActiveOrderView>('/v1/orders', {}, (p) => p.orders);
      const l = { ...first, orders: items, nextCursor: null };
      print(l, () => R.renderOrders(l));
    });

  program
    .command('approve')
    .argument('<identity>')
    .description('approve an escalation for a while (approver role)')
    .requiredOption('--escalation <name>', 'the escalation, as policies see it in context.approvals')
    .requiredOption('--ttl <duration>', 'how long the approval holds')
    .option('--session <id>', 'bind the approval to a session')
    .action(async (identity: string, opts: { escalation: string; ttl: string; session?: string }) => {
      const a = await client().post<S.ApprovalAccepted>(`/v1/identities/${encodeURIComponent(identity)}/approvals`, { escalation: opts.escalation, ...ttlOf(opts.ttl), ...(opts.session ? { sessionId: opts.session } : {}) });
      print(a, () => `approval ${a.approvalId} of ${a.escalation} for ${a.identityId} by ${a.approvedBy}, until ${a.expiresAt}\n`);
    });

  program
    .command('scope')
    .argument('<identity>')
    .description('current runtime scope (or --version N from the audit log)')
    .option('--version <n>', 'a past scope version')
    .action(async (identity: string, opts: { version?: string }) => {
      const api = client();
      if (opts.version !== undefined) {
        const v = await api.get<S.PastScopeView>(`/v1/identities/${encodeURIComponent(identity)}/scope/versions/${encodeURIComponent(opts.version)}`);
        return print(v, () => R.renderPastScope(v));
      }
      const v = await api.get<S.ScopeView>(`/v1/identities/${encodeURIComponent(identity)}/scope`);
      print(v, () => R.renderScope(v));
    });

  program
    .command('explain')
    .argument('<identity>')
    .argument('<action>')
    .argument('<resource>')
    .description('why the identity may or may not do the action on the resource now')
    .option('--session <id>', 'as seen from this session (approvals and just-in-time grants given for a session hold only there)')
    .action(async (identity: string, action: string, resource: string, opts: { session?: string }) => {
      const e = await client().get<S.Explanation>(`/v1/identities/${encodeURIComponent(identity)}/explain`, { action, resource, ...(opts.session ? { session: opts.session } : {}) });
      print(e, () => R.renderExplanation(e));
    });

  program
    .command('history')
    .argument('<identity>')
    .description('scope changes, revocations and alerts with their causes (audit log), newest first')
    .option('--limit <n>', 'items per page', '50')
    .option('--cursor <cursor>', 'the next page (the cursor a page ends with)')
    .option('--kinds <list>', 'scope.change,revocation,drift.alert')
    .action(async (identity: string, opts: { limit: string; cursor?: string; kinds?: string }) => {
      const h = await client().get<S.History>(`/v1/identities/${encodeURIComponent(identity)}/history`, { limit: opts.limit, cursor: opts.cursor, kinds: opts.kinds });
      print(h, () => R.renderHistory(h));
    });

  const alerts = program
    .command('alerts')
    .description('drift alerts; --follow streams them live (Server-Sent Events, resumed after reconnects); alerts ack <id> acknowledges one')
    .option('--type <list>', 'comma-separated alert types')
    .addOption(new Option('--severity <min>', 'minimum severity').choices(['low', 'medium', 'high', 'critical']))
    .option('--identity <id>', 'one identity')
    .option('--limit <n>', 'how many (without --follow)', '50')
    .option('--cursor <cursor>', 'without --follow: the next page (the cursor a page ends with)')
    .option('--follow', 'stream new alerts until interrupted')
    .option('--since-id <id>', 'with --follow: start after this alert id')
    .option('--max <n>', 'with --follow: stop after N alerts')
    .action(async (opts: { type?: string; severity?: string; identity?: string; limit: string; cursor?: string; follow?: boolean; sinceId?: string; max?: string }) => {
      const api = client();
      const filter = { type: opts.type, severity: opts.severity, identity: opts.identity };
      if (!opts.follow) {
        const l = await api.get<S.AlertsList>('/v1/alerts', { ...filter, limit: positiveInt(opts.limit, '--limit'), cursor: opts.cursor });
        return print(l, () => R.renderAlerts(l));
      }
      const max = opts.max === undefined ? Infinity : positiveInt(opts.max, '--max');
      if (!g().json) io.stderr(`following alerts from ${api.baseUrl} (Ctrl-C to stop)\n`);
      await follow({
        api,
        path: '/v1/alerts/stream',
        query: filter,
        lastEventId: opts.sinceId,
        max,
        signal,
        stderr: io.stderr,
        onEvent: (ev) => {
          if (ev.event !== 'drift.alert') return false;
          const alert = JSON.parse(ev.data) as S.AlertView;
          io.stdout(g().json ? `${JSON.stringify(alert)}\n` : R.renderAlertLine(alert));
          return true;
        },
      });
    });

  alerts
    .command('ack')
    .argument('<alertId>')
    .description('acknowledge a drift alert (recorded with your token subject; a second acknowledgement is refused)')
    .option('--note <text>', 'why, or what was done')
    .action(async (alertId: string, opts: { note?: string }) => {
      const a = await client().post<S.AlertAck>(`/v1/alerts/${encodeURIComponent(alertId)}/ack`, opts.note !== undefined ? { note: opts.note } : {});
      print(a, () => `alert ${a.alertId} acknowledged by ${a.by} at ${a.at}${a.note ? `: ${a.note}` : ''}\n`);
    });

  program
    .command('enforcers')
    .description('enforcement points: last applied version, staleness, revocation lag')
    .action(async () => {
      const { first, items } = await client().getAll<S.EnforcersList, S.EnforcerView>('/v1/enforcers', {}, (p) => p.enforcers);
      const l = { ...first, enforcers: items, nextCursor: null };
      print(l, () => R.renderEnforcers(l));
    });

  program
    .command('audit')
    .description('the hash-chained audit log')
    .command('verify')
    .description('walk every partition chain in PostgreSQL and report the first tampered, missing or unlinked row')
    .option('--pg-url <url>', 'PostgreSQL (env LIVESCOPE_PG_URL)')
    .option('--schema <name>', 'schema (env LIVESCOPE_PG_SCHEMA)')
    .action(async (opts: { pgUrl?: string; schema?: string }) => {
      const store = await Store.open({ connectionString: opts.pgUrl ?? io.env.LIVESCOPE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/livescope', schema: opts.schema ?? io.env.LIVESCOPE_PG_SCHEMA ?? 'livescope', applicationName: 'livescope audit verify', poolSize: 1 });
      try {
        let shown = 0;
        const started = Date.now();
        const result = await store.verifyAudit((rows) => {
          if (rows - shown < 5000 && !io.isTTY) return;
          shown = rows;
          io.stderr(io.isTTY ? `\r\x1b[Kverified ${rows} rows…` : `verified ${rows} rows…\n`);
        });
        if (io.isTTY && shown > 0) io.stderr('\n');
        print(result, () =>
          result.ok
            ? `audit log intact: ${result.rows} rows in ${result.partitions} partition chain(s) verified in ${Date.now() - started} ms\n`
            : `AUDIT LOG BROKEN: partition ${result.firstBad!.partition}, row ${result.firstBad!.seq} is ${result.firstBad!.problem} (${result.rows} rows verified before it)\n`,
        );
        if (!result.ok) code = ExitCode.error;
      } finally {
        await store.close();
      }
    });

  program
    .command('watch')
    .argument('<identity>')
    .argument('<action>')
    .argument('<resource>')
    .description('DEMO: run an enforcement point in this terminal (enforcer SDK) and print its decision on (identity, action, resource) whenever it changes')
    .option('--session <id>', 'decide for this session (default: no session required)')
    .option('--interval <duration>', 'how often to decide', '1s')
    .option('--for <duration>', 'stop after this long (default: until Ctrl-C)')
    .option('--trusted-keys <json>', 'command signing keys: JSON key id → Ed25519 public key (env LIVESCOPE_TRUSTED_KEYS; default: the signing key of the development key file)')
    .action(async (identity: string, action: string, resource: string, opts: { session?: string; interval: string; for?: string; trustedKeys?: string }) => {
      const intervalMs = parseDuration(opts.interval, '--interval');
      const deadline = opts.for === undefined ? Infinity : Date.now() + parseDuration(opts.for, '--for');
      // The pipeline's connection from the shared variables (TLS and SASL included), as every service reads it.
      const pipeline = loadConfig({ ...kafkaOptions, ...registryOptions, ...topicPrefixOption }, io.env);
      const kafka = kafkaConnection(pipeline);
      const enforcer = new Enforcer({
        brokers: kafka.brokers,
        ...(kafka.ssl ? { ssl: kafka.ssl } : {}),
        ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
        registryUrl: pipeline.registryUrl,
        registryAuth: registryAuth(pipeline),
        enforcerId: `watch-${process.pid}`,
        trustedKeys: trustedKeysOf(opts.trustedKeys ?? io.env.LIVESCOPE_TRUSTED_KEYS, io.env),
        topicPrefix: pipeline.topicPrefix,
        // Logs go to stderr so that stdout carries only decisions.
        logger: createLogger('livescope-watch', 'warn', {}, pino.destination(2)),
        requireSession: opts.session !== undefined,
        // Probes are not traffic: they must not feed drift detection.
        reportDecisions: false,
        // Nor is it an enforcement point: its acknowledgements would count in "applied by N".
        acknowledge: false,
      });
      await enforcer.start();
      try {
        const ready = await Promise.race([enforcer.ready.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 60_000).unref())]);
        if (!ready) throw new WaitTimeout('the enforcement point did not finish reading the scope snapshots within 60 s');
        io.stderr(`enforcement point watch-${process.pid} is following the pipeline; deciding ${identity} ${action} on ${resource} every ${opts.interval} (Ctrl-C to stop)\n`);
        let last = '';
        while (!signal.aborted && Date.now() < deadline) {
          const d = enforcer.authorize(identity, opts.session, action, resource);
          const line = `${d.allowed ? 'ALLOWED' : 'DENIED'} (${d.code}) ${d.reason}`;
          if (line !== last) {
            io.stdout(g().json ? `${JSON.stringify({ at: new Date().toISOString(), identity, action, resource, ...d })}\n` : `${new Date().toISOString()}  ${line}\n`);
            last = line;
          }
          await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())), signal);
        }
      } finally {
        await enforcer.stop();
      }
    });

  program
    .command('token')
    .description('DEVELOPMENT ONLY: mint an API token from the local development key file (LIVESCOPE_DEV_KEYS)')
    .addOption(new Option('--role <role...>', 'roles to grant').choices(allRoles).makeOptionMandatory())
    .requiredOption('--sub <subject>', 'who the token speaks for (recorded as the actor)')
    .option('--ttl <duration>', 'lifetime', '1h')
    .addOption(new Option('--kind <kind>', 'who the subject is: a person may approve escalations, a workload or agent may not').choices(['human', 'workload', 'agent']).default('human'))
    .option('--keys <file>', 'development key file (env LIVESCOPE_DEV_KEYS, default ~/.cache/livescope/dev-keys.json)')
    .action(async (opts: { role: Role[]; sub: string; ttl: string; kind: string; keys?: string }) => {
      const path = opts.keys ?? defaultDevKeysPath(io.env);
      const key = loadOrCreateDevApiKey(path);
      const ttlMs = parseDuration(opts.ttl, '--ttl');
      const token = await mintDevToken({ key, sub: opts.sub, roles: opts.role, kind: opts.kind, issuer: io.env.LIVESCOPE_API_JWT_ISSUER ?? 'livescope', audience: io.env.LIVESCOPE_API_JWT_AUDIENCE ?? 'livescope-api', ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)) });
      io.stderr(`development-only token for ${opts.sub} (${opts.role.join(', ')}), valid ${opts.ttl}, signed with ${key.kid} from ${path}; never use it in production\n`);
      io.stdout(`${token}\n`);
    });

  registerLoginCommands(program, { apiUrl, env: io.env, fetch: io.fetch ?? fetch, print, stderr: io.stderr, signal });

  const context: CommandContext = {
    client,
    print,
    json: () => g().json === true,
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY: io.isTTY === true,
    signal,
    setCode: (c) => {
      code = c;
    },
    timeout: (message) => new WaitTimeout(message),
  };
  registerFleetCommands(program, context);
  registerPolicyCommands(program, context);

  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices(completionShells))
    .description('print the shell completion script: source <(livescope completion bash), or see docs/cli.md for zsh and fish')
    .action((shell: CompletionShell) => {
      io.stdout(completionScript(shell, program));
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    return exitCodeOf(e, io, json);
  }
  return code;
}

/** Keys enforcement points trust for command signatures: configured JSON, or the development key file's signing key. */
function trustedKeysOf(json: string | undefined, env: CliIo['env']): VerifyingKey[] {
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new UsageError('--trusted-keys / LIVESCOPE_TRUSTED_KEYS: not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null) throw new UsageError('--trusted-keys / LIVESCOPE_TRUSTED_KEYS: expected a JSON object of key id → public key');
    return Object.entries(parsed as Record<string, string>).map(([kid, key]) => parsePublicKey(kid, key));
  }
  const path = defaultDevKeysPath(env);
  let file: { signing?: { kid?: string; publicKey?: string } };
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
  } catch {
    throw new UsageError(`no trusted keys: give --trusted-keys, or run npm start once so that ${path} holds the development signing key`);
  }
  if (!file.signing?.kid || !file.signing.publicKey) throw new UsageError(`${path} holds no signing key`);
  return [parsePublicKey(file.signing.kid, file.signing.publicKey)];
}

/** What went wrong, as `--json` prints it on stderr: `{"error": CliFailure}`. */
export interface CliFailure {
  /** Stable: USAGE, TIMEOUT, ERROR, a commander code (commander.unknownCommand …) or the API's error code (FORBIDDEN, NOT_FOUND, UNREACHABLE …). */
  readonly code: string;
  readonly message: string;
  /** The process exit code it leads to. */
  readonly exitCode: number;
  /** The HTTP status of an API error (0: no answer). */
  readonly status?: number;
  /** Request fields the API refused. */
  readonly paths?: readonly string[];
}

/** The failure an error stands for, with the exit code it leads to; undefined when it is no failure (help shown). */
export function failureOf(e: unknown): CliFailure | undefined {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return undefined;
    return { code: e.code, message: e.message.replace(/^error: /, ''), exitCode: ExitCode.usage };
  }
  if (e instanceof UsageError || ConfigError.is(e)) return { code: 'USAGE', message: e.message, exitCode: ExitCode.usage };
  if (e instanceof WaitTimeout) return { code: 'TIMEOUT', message: e.message, exitCode: ExitCode.timeout };
  if (e instanceof ApiError) {
    const exitCode = e.status === 401 || e.status === 403 ? ExitCode.denied : e.status === 400 ? ExitCode.usage : e.code === 'TIMEOUT' ? ExitCode.timeout : ExitCode.error;
    return { code: e.code, message: e.message, exitCode, status: e.status, ...(e.paths.length ? { paths: e.paths } : {}) };
  }
  return { code: 'ERROR', message: e instanceof Error ? e.message : String(e), exitCode: ExitCode.error };
}

function exitCodeOf(e: unknown, io: CliIo, json: boolean): number {
  const f = failureOf(e);
  if (f === undefined) return ExitCode.ok;
  if (json) io.stderr(`${JSON.stringify({ error: f })}\n`);
  // commander printed its own message (and the help) already.
  else if (!(e instanceof CommanderError)) io.stderr(`livescope: ${f.message}${f.paths?.length ? ` (fields: ${f.paths.join(', ')})` : ''}\n`);
  return f.exitCode;
}
