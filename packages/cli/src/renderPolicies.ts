import type * as S from '@livescope/control-plane/api-types';
import type { CaseResult, FileDiff, PolicyChange, ValidationResult } from '@livescope/scope-engine';
import { formatInstant, formatTable } from './table.js';

/** Human output of `livescope policy …`. */

export function renderValidation(v: ValidationResult, paths: ReadonlyMap<string, string>, dir: string): string {
  if (v.valid) return `${dir}: ${v.policies.length} polic${v.policies.length === 1 ? 'y' : 'ies'} in ${paths.size} file${paths.size === 1 ? '' : 's'} validate against the livescope schema\n`;
  return v.problems
    .map((p) => {
      const file = p.file !== undefined ? (paths.get(p.file) ?? p.file) : dir;
      const at = p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : '';
      return `${file}${at}: error ${p.code}: ${p.message}${p.help ? `\n  help: ${p.help}` : ''}\n`;
    })
    .join('');
}

export function renderTestResults(results: readonly (CaseResult & { suite: string })[]): string {
  const lines = results.map((r) => `${r.passed ? 'PASS' : 'FAIL'}  ${r.suite} › ${r.test} › ${r.action} ${r.resource}: ${r.passed ? r.actual : r.message}\n`);
  const failed = results.filter((r) => !r.passed).length;
  return `${lines.join('')}\n${results.length - failed} passed, ${failed} failed (${results.length} cases)\n`;
}

export function renderFileDiffs(files: readonly FileDiff[]): string {
  if (files.length === 0) return 'no textual change\n';
  return files
    .map((f) => {
      const head = f.change === 'added' ? `--- /dev/null\n+++ ${f.file}.cedar\n` : f.change === 'removed' ? `--- ${f.file}.cedar\n+++ /dev/null\n` : `--- ${f.file}.cedar\n+++ ${f.file}.cedar\n`;
      const hunks = f.hunks.map((h) => {
        const a = h.lines.filter((l) => l.op !== '+').length;
        const b = h.lines.filter((l) => l.op !== '-').length;
        return `@@ -${h.fromLine},${a} +${h.toLine},${b} @@\n${h.lines.map((l) => `${l.op}${l.text}\n`).join('')}`;
      });
      return head + hunks.join('');
    })
    .join('');
}

export function renderPolicyChanges(changes: readonly PolicyChange[]): string {
  if (changes.length === 0) return 'no policy changed (comments and layout aside)\n';
  return changes
    .map((c) => {
      const s = c.after ?? c.before!;
      const scope = `${s.effect} (${s.principal}, ${s.action}, ${s.resource})`;
      if (c.change !== 'modified') return `${c.change === 'added' ? '+' : '-'} ${c.id}: ${scope}${s.reads.length ? `; reads ${s.reads.join(', ')}` : ''}\n`;
      return `~ ${c.id}: ${scope}; changed: ${(c.changed ?? []).join(', ') || 'text'}\n`;
    })
    .join('');
}

export function renderPairs(pairs: S.PolicyDiff['pairs'], truncated: boolean): string {
  if (pairs === null) return '';
  if (pairs.length === 0) return 'on the live fleet: no (action, resource) pair changes for any identity\n';
  return `on the live fleet, per kind of identity (identities gaining / losing the pair):\n${formatTable(
    ['KIND', 'ACTION', 'RESOURCE', 'GAIN', 'LOSE'],
    pairs.map((p) => [p.kind, p.action, p.resource, String(p.gained), String(p.lost)]),
  )}${truncated ? '(more pairs not shown)\n' : ''}`;
}

export function renderDiff(d: S.PolicyDiff): string {
  const name = (x: { version: number | null; hash: string }): string => (x.version !== null ? `version ${x.version}` : x.hash.slice(0, 19));
  if (d.identical) return `${name(d.from)} and ${name(d.to)} are identical\n`;
  return `diff ${name(d.from)} → ${name(d.to)}\n\n${renderFileDiffs(d.files)}\npolicies:\n${renderPolicyChanges(d.policies)}\n${renderPairs(d.pairs, d.pairsTruncated)}`;
}

const perm = (p: { action: string; resource: string; sessions?: string[] | undefined }): string => `${p.action} ${p.resource}${p.sessions ? ` [session ${p.sessions.join(',')}]` : ''}`;

export function renderImpact(i: S.PolicyImpact, limit: number): string {
  const t = i.totals;
  const out: string[] = [];
  out.push(`impact of ${i.candidate.version !== null ? `version ${i.candidate.version}` : i.candidate.hash.slice(0, 19)} against the set in force (${i.inForce.version !== null ? `version ${i.inForce.version}` : 'none published'}), computed at ${i.at} in ${i.durationMs} ms\n`);
  if (i.partitionsBehind.length) out.push(`warning: partitions ${i.partitionsBehind.join(', ')} hold another version (a publication is being applied)\n`);
  out.push(`${i.scanned} identities scanned: ${t.changed} would change — ${t.narrowed} narrowed, ${t.widened} widened, ${t.losingEverything} would lose everything; ${t.lost} permissions lost, ${t.gained} gained\n`);
  if (t.changed === 0) return out.join('');
  const groups = (rows: readonly ({ identities: number; changed: number; narrowed: number; widened: number; lost: number; gained: number; losingEverything: number } & Record<string, unknown>)[], key: string) =>
    formatTable(
      [key.toUpperCase(), 'IDENTITIES', 'CHANGED', 'NARROWED', 'WIDENED', 'LOST', 'GAINED', 'LOSE ALL'],
      rows.filter((r) => r.changed > 0).map((r) => [String(r[key]), String(r.identities), String(r.changed), String(r.narrowed), String(r.widened), String(r.lost), String(r.gained), String(r.losingEverything)]),
    );
  out.push(`\nby namespace:\n${groups(i.byNamespace, 'namespace')}`);
  out.push(`\nby kind:\n${groups(i.byKind, 'kind')}`);
  out.push(`\n${renderPairs(i.pairs, i.pairsTruncated)}`);
  const shown = i.identities.slice(0, limit);
  out.push(`\nidentities (${shown.length}${i.identitiesTruncated || i.identities.length > shown.length ? ' shown, most affected first' : ''}):\n`);
  for (const x of shown) {
    out.push(`  ${x.identityId} (${x.kind}, ${x.namespace}): ${x.before} → ${x.after}${x.losesEverything ? '  LOSES EVERYTHING' : ''}\n`);
    for (const p of x.lost) out.push(`    - ${perm(p)}\n`);
    for (const p of x.gained) out.push(`    + ${perm(p)}\n`);
    for (const p of x.rebound) out.push(`    ~ ${perm(p)}\n`);
  }
  return out.join('');
}

export function renderPublication(p: S.PolicyPublication): string {
  switch (p.status) {
    case 'unchanged':
      return `unchanged: version ${p.version} in force already has this content (${p.hash.slice(0, 19)}); nothing published\n`;
    case 'pending':
      return `publication ${p.requestId} (${p.hash.slice(0, 19)}${p.rollbackOf !== null ? `, rollback to version ${p.rollbackOf}` : ''}) waits for a second admin:\n  livescope policy approve ${p.requestId}    (an admin other than ${p.requestedBy})\n`;
    case 'rejected':
      return `publication ${p.requestId} was rejected by ${p.approvedBy ?? '?'}${p.reason ? `: ${p.reason}` : ''}\n`;
    case 'published':
      return `published version ${p.version} (${p.hash.slice(0, 19)}, event ${p.eventId})${p.approvedBy ? `, approved by ${p.approvedBy}` : ''}${p.rollbackOf !== null ? `, rollback to version ${p.rollbackOf}` : ''}\n  follow it with: livescope policy status ${p.version} --wait\n`;
  }
}

export function renderPublications(l: S.PolicyPublications, nowMs = Date.now()): string {
  if (l.requests.length === 0) return 'no publication request\n';
  return formatTable(
    ['REQUEST', 'STATUS', 'VERSION', 'REQUESTED', 'BY', 'DECIDED BY', 'FILES', 'HASH', 'NOTE'],
    l.requests.map((p) => [p.requestId ?? '-', p.status, p.version === null ? '-' : String(p.version), formatInstant(p.requestedAt, nowMs), p.requestedBy, p.approvedBy ?? '-', String(p.files), p.hash.slice(7, 19), [p.rollbackOf !== null ? `rollback to ${p.rollbackOf}` : '', p.reason ?? ''].filter(Boolean).join('; ')]),
  );
}

export function statusLine(s: S.PolicyApplyStatus): string {
  const refused = s.partitions.filter((p) => p.state === 'refused').map((p) => p.partition);
  return `version ${s.version}: applied by ${s.applied}/${s.total} partitions${refused.length ? ` · REFUSED by partitions ${refused.join(', ')} (see the dead-letter topic)` : ''}${s.complete ? ' · complete' : ''}`;
}

export function renderHistory(h: S.PolicyHistory, nowMs = Date.now()): string {
  const out: string[] = [];
  if (h.versions.length === 0) out.push('no policy set applied yet\n');
  else
    out.push(
      formatTable(
        ['VERSION', 'PUBLISHED', 'BY', 'APPROVED BY', 'FILES', 'HASH', 'NOTE'],
        h.versions.map((v) => [String(v.version), formatInstant(v.publishedAt, nowMs), v.publishedBy, v.approvedBy ?? '-', String(v.policies.length), v.hash.slice(7, 19), [v.rollbackOf !== null ? `rollback to ${v.rollbackOf}` : '', v.reason ?? ''].filter(Boolean).join('; ')]),
      ),
    );
  if (h.pending.length) {
    out.push('\npending (waiting for a second admin):\n');
    out.push(formatTable(['REQUEST', 'REQUESTED', 'BY', 'HASH', 'NOTE'], h.pending.map((p) => [p.requestId ?? '-', formatInstant(p.requestedAt, nowMs), p.requestedBy, p.hash.slice(7, 19), [p.rollbackOf !== null ? `rollback to ${p.rollbackOf}` : '', p.reason ?? ''].filter(Boolean).join('; ')])));
  }
  return out.join('');
}

export function renderPolicySet(s: S.PolicySetView): string {
  if (s.version === null) return 'no policy set published: every provisioned permission is in scope (orders still apply)\n';
  const behind = s.partitions.filter((p) => p.version !== s.version);
  return `version ${s.version} (${s.hash?.slice(0, 19) ?? '-'}) published by ${s.publishedBy ?? 'unknown'}${s.publishedAt ? ` at ${s.publishedAt}` : ''}\n${s.files.map((f) => `  ${f.id}.cedar (${f.text.split('\n').length} lines)\n`).join('')}${behind.length ? `partitions ${behind.map((p) => `${p.partition} (v${p.version ?? '-'})`).join(', ')} hold another version\n` : ''}`;
}
