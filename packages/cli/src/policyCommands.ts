import { Option, type Command } from 'commander';
import type * as S from '@livescope/control-plane/api-types';
import { compileScopePolicy, diffPolicySets, diffPolicyTexts, parsePolicyTestFile, PolicyTestFormatError, runPolicyTests, validatePolicyFiles, type CaseResult, type PolicyFileText } from '@livescope/scope-engine';
import type { ApiClient } from './ApiClient.js';
import type { CommandContext } from './CommandContext.js';
import { ExitCode, parseDuration, UsageError } from './parse.js';
import { parseSetArg, readPolicyDir, readTestFiles, type SetArg } from './policyFiles.js';
import * as P from './renderPolicies.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';


/** Local validation and tests: the workers' compiler and evaluator, no control plane needed (CI, pre-commit). */
export function validateDir(dir: string): { result: ReturnType<typeof validatePolicyFiles>; paths: ReadonlyMap<string, string>; files: PolicyFileText[] } {
  const d = readPolicyDir(dir);
  return { result: validatePolicyFiles(d.files), paths: d.paths, files: d.files };
}

export function testDir(dir: string, tests: string | undefined): { valid: boolean; validation: ReturnType<typeof validatePolicyFiles>; paths: ReadonlyMap<string, string>; results: (CaseResult & { suite: string })[] } {
  const { result, paths, files } = validateDir(dir);
  if (!result.valid) return { valid: false, validation: result, paths, results: [] };
  const path = tests ?? join(dir, 'tests');
  if (tests === undefined && !existsSync(path)) throw new UsageError(`${dir}: no tests/ directory; give the test files or directory as the second argument`);
  const policy = compileScopePolicy(files, 1);
  const results: (CaseResult & { suite: string })[] = [];
  for (const suite of readTestFiles(path)) {
    let parsed;
    try {
      parsed = parsePolicyTestFile(suite.content);
    } catch (e) {
      if (e instanceof PolicyTestFormatError) throw new UsageError(`${join(path, suite.name)}: ${e.message}`);
      throw e;
    }
    for (const r of runPolicyTests(policy, parsed)) results.push({ suite: suite.name, ...r });
  }
  return { valid: true, validation: result, paths, results };
}

/** `livescope policy …`: validate, test, diff, impact, publish, approve, reject, requests, request, status, history, rollback, show. */
export function registerPolicyCommands(program: Command, c: CommandContext): void {
  const policy = program.command('policy').description('the policy lifecycle: validate, test, diff, impact on the live fleet, publish, history and rollback (docs/policies.md#the-policy-lifecycle)');

  policy
    .command('validate')
    .argument('<dir>', 'directory of .cedar files (the set)')
    .description('parse and validate against the livescope Cedar schema, locally; errors with file, line and column (exit 1 when invalid)')
    .action((dir: string) => {
      const { result, paths } = validateDir(dir);
      c.print(result, () => P.renderValidation(result, paths, dir));
      if (!result.valid) c.setCode(ExitCode.error);
    });

  policy
    .command('test')
    .argument('<dir>', 'directory of .cedar files (the set)')
    .argument('[tests]', 'a *.test.json file or a directory of them (default: <dir>/tests)')
    .description('run policy tests locally with the workers’ compiled evaluator (exit 1 when a case fails)')
    .action((dir: string, tests: string | undefined) => {
      const r = testDir(dir, tests);
      if (!r.valid) {
        c.print(r.validation, () => P.renderValidation(r.validation, r.paths, dir));
        c.setCode(ExitCode.error);
        return;
      }
      const failed = r.results.filter((x) => !x.passed).length;
      c.print({ passed: r.results.length - failed, failed, results: r.results }, () => P.renderTestResults(r.results));
      if (failed > 0) c.setCode(ExitCode.error);
    });

  policy
    .command('diff')
    .argument('[from]', 'a directory, a published version, or "current" (default: current)')
    .argument('[to]', 'a directory, a published version, or "current"')
    .description('textual and semantic diff; with the control plane, also the (action, resource) pairs that change per kind of identity on the live fleet')
    .option('--no-fleet', 'do not ask the control plane for the fleet pairs (two directories are then compared locally)')
    .action(async (a: string | undefined, b: string | undefined, opts: { fleet: boolean }) => {
      if (a === undefined) throw new UsageError('policy diff: give TO, or FROM and TO (a directory, a version, or current)');
      const from: SetArg = b === undefined ? { kind: 'current' } : parseSetArg(a);
      const to: SetArg = parseSetArg(b ?? a);
      if (!opts.fleet && from.kind === 'dir' && to.kind === 'dir') {
        const textual = diffPolicyTexts(from.dir.files, to.dir.files);
        const fv = validatePolicyFiles(from.dir.files);
        const tv = validatePolicyFiles(to.dir.files);
        if (!fv.valid || !tv.valid) throw new UsageError(`policy diff: ${!fv.valid ? from.dir.dir : to.dir.dir} does not validate (run livescope policy validate)`);
        const semantic = diffPolicySets(compileScopePolicy(from.dir.files, 1).compiled, compileScopePolicy(to.dir.files, 2).compiled);
        c.print({ files: textual, policies: semantic }, () => `${P.renderFileDiffs(textual)}\npolicies:\n${P.renderPolicyChanges(semantic)}`);
        return;
      }
      const ref = (s: SetArg): { version: number } | { files: PolicyFileText[] } | undefined => (s.kind === 'dir' ? { files: s.dir.files } : s.kind === 'version' ? { version: s.version } : undefined);
      const fromRef = ref(from);
      const toRef = ref(to);
      if (!toRef) throw new UsageError('policy diff: TO cannot be "current" (diff current against a directory or a version)');
      const d = await c.client().post<S.PolicyDiff>('/v1/policies/diff', { ...(fromRef ? { from: fromRef } : {}), to: toRef, fleet: opts.fleet });
      c.print(d, () => P.renderDiff(d));
    });

  policy
    .command('impact')
    .argument('[dir]', 'the candidate set (or --version N to preview a rollback)')
    .description('what-if against the live fleet, without publishing: every identity whose scope would change, counts by namespace and kind, identities that would lose everything')
    .option('--version <n>', 'a published version instead of a directory')
    .option('--limit <n>', 'changed identities listed', '50')
    .option('--namespace <ns>', 'list only identities of this namespace')
    .option('--kind <kind>', 'list only identities of this kind')
    .action(async (dir: string | undefined, opts: { version?: string; limit: string; namespace?: string; kind?: string }) => {
      if ((dir === undefined) === (opts.version === undefined)) throw new UsageError('policy impact: give a directory or --version N');
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new UsageError('--limit: expected 0..10000');
      const body = { ...(dir !== undefined ? { files: readPolicyDir(dir).files } : { version: Number(opts.version) }), limit, ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.kind ? { kind: opts.kind } : {}) };
      const i = await c.client().post<S.PolicyImpact>('/v1/policies/impact', body);
      c.print(i, () => P.renderImpact(i, limit));
    });

  const waitFor = async (api: ApiClient, version: number, timeoutMs: number): Promise<S.PolicyApplyStatus> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    try {
      while (!c.signal.aborted) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        const pollMs = Math.min(5000, remaining);
        const s = await api.get<S.PolicyApplyStatus>(`/v1/policies/versions/${version}/status`, { waitMs: pollMs }, pollMs + 15_000);
        const line = P.statusLine(s);
        if (line !== last) {
          c.stderr(c.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
          last = line;
        }
        if (s.complete || s.refused) return s;
      }
    } finally {
      if (c.isTTY && last) c.stderr('\n');
    }
    throw c.timeout(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for every partition to apply policy version ${version}`);
  };

  const afterPublish = async (p: S.PolicyPublication, opts: { wait?: boolean; timeout: string }): Promise<void> => {
    if (!opts.wait || p.status !== 'published' || p.version === null) return c.print(p, () => P.renderPublication(p));
    if (!c.json()) c.print(p, () => P.renderPublication(p));
    const status = await waitFor(c.client(), p.version, parseDuration(opts.timeout, '--timeout'));
    if (c.json()) c.print({ publication: p, status }, () => '');
    else c.print(status, () => `${P.statusLine(status)}\n`);
    if (status.refused) c.setCode(ExitCode.error);
  };
  const publishOptions = (cmd: Command): Command =>
    cmd
      .option('--reason <text>', 'why (recorded with the publication)')
      .option('--require-approval', 'hold the publication until a second admin approves it')
      .option('--wait', 'wait until every partition of the workers applied it')
      .option('--timeout <duration>', 'longest --wait', '120s');

  publishOptions(
    policy
      .command('publish')
      .argument('<dir>', 'directory of .cedar files')
      .description('publish the set (approver role): validated, idempotent by content hash, a signed control event; optionally held for a second admin'),
  ).action(async (dir: string, opts: { reason?: string; requireApproval?: boolean; wait?: boolean; timeout: string }) => {
    const { result, paths, files } = validateDir(dir);
    if (!result.valid) {
      c.stderr(P.renderValidation(result, paths, dir));
      throw new UsageError(`${dir} does not validate: nothing published`);
    }
    const p = await c.client().post<S.PolicyPublication>('/v1/policies/publish', { files, ...(opts.reason ? { reason: opts.reason } : {}), requireApproval: opts.requireApproval === true });
    await afterPublish(p, opts);
  });

  publishOptions(
    policy
      .command('rollback')
      .argument('<version>', 'the published version to return to')
      .description('publish the files of an earlier version again, as a new version (approver role)'),
  ).action(async (version: string, opts: { reason?: string; requireApproval?: boolean; wait?: boolean; timeout: string }) => {
    const v = Number(version);
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`rollback: expected a version number, got ${version}`);
    const p = await c.client().post<S.PolicyPublication>('/v1/policies/rollback', { version: v, ...(opts.reason ? { reason: opts.reason } : {}), requireApproval: opts.requireApproval === true });
    await afterPublish(p, opts);
  });

  policy
    .command('approve')
    .argument('<requestId>')
    .description('approve a held publication (an admin other than the requester): it is published now')
    .option('--wait', 'wait until every partition applied it')
    .option('--timeout <duration>', 'longest --wait', '120s')
    .action(async (requestId: string, opts: { wait?: boolean; timeout: string }) => {
      const p = await c.client().post<S.PolicyPublication>(`/v1/policies/requests/${encodeURIComponent(requestId)}/approve`, {});
      await afterPublish(p, opts);
    });

  policy
    .command('reject')
    .argument('<requestId>')
    .description('reject a held publication (an admin, or the requester withdrawing it)')
    .option('--reason <text>', 'why')
    .action(async (requestId: string, opts: { reason?: string }) => {
      const p = await c.client().post<S.PolicyPublication>(`/v1/policies/requests/${encodeURIComponent(requestId)}/reject`, opts.reason ? { reason: opts.reason } : {});
      c.print(p, () => P.renderPublication(p));
    });

  policy
    .command('requests')
    .description('publication requests, newest first (pending ones wait for a second admin)')
    .addOption(new Option('--status <status>', 'only requests in this state').choices(['pending', 'published', 'rejected']))
    .action(async (opts: { status?: string }) => {
      const l = await c.client().get<S.PolicyPublications>('/v1/policies/requests', { status: opts.status });
      c.print(l, () => P.renderPublications(l));
    });

  policy
    .command('request')
    .argument('<requestId>')
    .description('one publication request')
    .action(async (requestId: string) => {
      const p = await c.client().get<S.PolicyPublication>(`/v1/policies/requests/${encodeURIComponent(requestId)}`);
      c.print(p, () => P.renderPublication(p));
    });

  policy
    .command('status')
    .argument('<version>')
    .description('which partitions applied a published version')
    .option('--wait', 'wait until every partition applied it (or one refused it)')
    .option('--timeout <duration>', 'longest --wait', '120s')
    .action(async (version: string, opts: { wait?: boolean; timeout: string }) => {
      const api = c.client();
      const s = opts.wait ? await waitFor(api, Number(version), parseDuration(opts.timeout, '--timeout')) : await api.get<S.PolicyApplyStatus>(`/v1/policies/versions/${encodeURIComponent(version)}/status`);
      c.print(s, () => `${P.statusLine(s)}\n${s.partitions.map((p) => `  partition ${p.partition}: ${p.state} (holds v${p.versionInForce ?? '-'})\n`).join('')}`);
      if (s.refused) c.setCode(ExitCode.error);
    });

  policy
    .command('history')
    .description('versions the workers applied, newest first, with author, approver and rollbacks; pending publications')
    .option('--limit <n>', 'versions', '20')
    .action(async (opts: { limit: string }) => {
      const h = await c.client().get<S.PolicyHistory>('/v1/policies/history', { limit: opts.limit });
      c.print(h, () => P.renderHistory(h));
    });

  policy
    .command('show')
    .argument('[version]', 'a published version (default: the set in force)')
    .description('the set in force (version, author, files) or a published version')
    .option('--files', 'print the files’ text')
    .action(async (version: string | undefined, opts: { files?: boolean }) => {
      const s = await c.client().get<S.PolicySetView>(version === undefined ? '/v1/policies' : `/v1/policies/versions/${encodeURIComponent(version)}`);
      c.print(s, () => P.renderPolicySet(s) + (opts.files ? s.files.map((f) => `\n// ---- ${f.id}.cedar\n${f.text}`).join('') : ''));
    });
}
