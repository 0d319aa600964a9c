import { IdentityKind, IdentityStatus } from '@livescope/contracts';
import { Option, type Command } from 'commander';
import type * as S from '@livescope/control-plane/api-types';
import type { CommandContext } from './CommandContext.js';
import { follow } from './follow.js';
import { UsageError } from './parse.js';
import * as R from './render.js';

/** Positive whole number of an option, or a usage error naming it. */
export function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what}: expected a positive whole number, got ${JSON.stringify(text)}`);
  return n;
}

/** `livescope identities | fleet | changes | me | revoke-approval`: the fleet views and the caller. */
export function registerFleetCommands(program: Command, c: CommandContext): void {
  program
    .command('identities')
    .description('identities in id order, a page at a time (the workers’ state of record)')
    .option('--search <text>', 'case-insensitive substring of the identity id')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(IdentityKind.options))
    .option('--namespace <ns>', 'only this namespace')
    .addOption(new Option('--status <status>', 'only this status').choices(IdentityStatus.options))
    .option('--limit <n>', 'identities per page (1..1000)', '200')
    .option('--cursor <cursor>', 'the next page (the cursor a full page ends with)')
    .action(async (opts: { search?: string; kind?: string; namespace?: string; status?: string; limit: string; cursor?: string }) => {
      const p = await c.client().get<S.IdentitiesPage>('/v1/identities', { limit: positiveInt(opts.limit, '--limit'), cursor: opts.cursor, q: opts.search, kind: opts.kind, namespace: opts.namespace, status: opts.status });
      c.print(p, () => R.renderIdentities(p));
    });

  program
    .command('fleet')
    .description('the fleet at a glance: identities by status, kind and namespace, scope sizes, orders, enforcement points, alerts, recent activity')
    .action(async () => {
      const f = await c.client().get<S.FleetSummary>('/v1/fleet');
      c.print(f, () => R.renderFleet(f));
    });

  program
    .command('changes')
    .description('the newest scope changes and revocations of the whole fleet; --follow streams them live (Server-Sent Events, resumed after reconnects)')
    .addOption(new Option('--kinds <list>', 'scope.change, revocation or both (comma-separated)'))
    .option('--limit <n>', 'how many (without --follow)', '50')
    .option('--follow', 'stream new changes until interrupted')
    .option('--identity <id>', 'with --follow: only this identity')
    .option('--since <cursor>', 'with --follow: start after this position (the position printed by --json changes)')
    .option('--max <n>', 'with --follow: stop after N changes')
    .action(async (opts: { kinds?: string; limit: string; follow?: boolean; identity?: string; since?: string; max?: string }) => {
      const api = c.client();
      if (!opts.follow) {
        if (opts.identity !== undefined || opts.since !== undefined || opts.max !== undefined) throw new UsageError('--identity, --since and --max go with --follow');
        const l = await api.get<S.ChangesList>('/v1/changes', { limit: positiveInt(opts.limit, '--limit'), kinds: opts.kinds });
        return c.print(l, () => R.renderChanges(l));
      }
      const max = opts.max === undefined ? Infinity : positiveInt(opts.max, '--max');
      if (!c.json()) c.stderr(`following scope changes from ${api.baseUrl} (Ctrl-C to stop)\n`);
      await follow({
        api,
        path: '/v1/changes/stream',
        query: { kinds: opts.kinds, identity: opts.identity },
        lastEventId: opts.since,
        max,
        signal: c.signal,
        stderr: c.stderr,
        onEvent: (ev) => {
          if (ev.event !== 'scope.change' && ev.event !== 'revocation') return false;
          const item = JSON.parse(ev.data) as S.ChangeItem;
          c.stdout(c.json() ? `${JSON.stringify(item)}\n` : R.renderChangeLine(item));
          return true;
        },
      });
    });

  program
    .command('me')
    .description('who the token speaks for: subject, roles, and what they allow')
    .action(async () => {
      const w = await c.client().get<S.WhoAmI>('/v1/me');
      c.print(w, () => R.renderWhoAmI(w));
    });

  program
    .command('revoke-approval')
    .argument('<identity>')
    .argument('<approvalId>')
    .description('withdraw an approval before its TTL (narrowing)')
    .action(async (identity: string, approvalId: string) => {
      const r = await c.client().post<S.ApprovalRevoked>(`/v1/identities/${encodeURIComponent(identity)}/approvals/${encodeURIComponent(approvalId)}/revoke`);
      c.print(r, () => `approval ${r.approvalId} of ${r.identityId} withdrawn (event ${r.eventId})\n`);
    });
}
