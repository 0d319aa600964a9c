import { useEffect, useState, type ReactNode } from 'react';
import { useSession } from '../api/session';
import type { ImpactCounts, PolicyDiff, PolicyFile, PolicyHistory, PolicyImpact, PolicyPublication, PolicySetView, PolicyValidation } from '../api/types';
import { useApi } from '../hooks/useApi';
import { useNow } from '../hooks/useNow';
import { ago, count, perm } from '../format';
import { identityPath, Link } from '../router';

type Candidate = { readonly label: string; readonly files: readonly PolicyFile[]; readonly version?: number };
type Result = { kind: 'validation'; v: PolicyValidation } | { kind: 'diff'; d: PolicyDiff } | { kind: 'impact'; i: PolicyImpact } | { kind: 'publication'; p: PolicyPublication };

/**
 * The policy lifecycle: the set in force (version, author, files, partitions), its history with
 * rollbacks and pending publications, and a candidate set — edited here or an earlier version — with
 * its validation, its diff against the set in force, and its impact on the live fleet (counts,
 * per namespace and kind, drill-down to identities and the permissions each gains and loses)
 * before it is published.
 */
export function PoliciesPage(): ReactNode {
  const { api, me } = useSession();
  const now = useNow(10_000);
  const current = useApi<PolicySetView>('/v1/policies', 10_000);
  const history = useApi<PolicyHistory>('/v1/policies/history?limit=30', 10_000);
  const [candidate, setCandidate] = useState<Candidate | undefined>();
  const [open, setOpen] = useState<string | undefined>();
  const [result, setResult] = useState<Result | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [drill, setDrill] = useState<{ namespace?: string; kind?: string } | undefined>();
  const canPublish = me.roles.includes('approver') || me.roles.includes('admin');
  const isAdmin = me.roles.includes('admin');

  const set = current.data;
  useEffect(() => {
    if (set && !candidate) setCandidate({ label: `edit of version ${set.version ?? '—'}`, files: set.files });
  }, [set, candidate]);

  const run = async (what: string, f: () => Promise<Result>): Promise<void> => {
    setBusy(what);
    setError(undefined);
    try {
      setResult(await f());
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };
  const body = (c: Candidate): { files: readonly PolicyFile[] } | { version: number } => (c.version !== undefined ? { version: c.version } : { files: c.files });
  const impact = (c: Candidate, filter?: { namespace?: string; kind?: string }): Promise<void> =>
    run('impact', async () => ({ kind: 'impact', i: await api.post<PolicyImpact>('/v1/policies/impact', { ...body(c), limit: 200, ...filter }) }));
  const diff = (c: Candidate): Promise<void> => run('diff', async () => ({ kind: 'diff', d: await api.post<PolicyDiff>('/v1/policies/diff', { to: c.version !== undefined ? { version: c.version } : { files: c.files } }) }));
  const validate = (c: Candidate): Promise<void> => run('validate', async () => ({ kind: 'validation', v: await api.post<PolicyValidation>('/v1/policies/validate', { files: c.files }) }));
  const publish = (c: Candidate, requireApproval: boolean): Promise<void> =>
    run('publish', async () => {
      const p = c.version !== undefined ? await api.post<PolicyPublication>('/v1/policies/rollback', { version: c.version, requireApproval }) : await api.post<PolicyPublication>('/v1/policies/publish', { files: c.files, requireApproval });
      current.reload();
      history.reload();
      return { kind: 'publication', p };
    });
  const decide = (requestId: string, verb: 'approve' | 'reject'): Promise<void> =>
    run(verb, async () => {
      const p = await api.post<PolicyPublication>(`/v1/policies/requests/${encodeURIComponent(requestId)}/${verb}`, {});
      current.reload();
      history.reload();
      return { kind: 'publication', p };
    });

  const editFile = (id: string, text: string): void => {
    if (!candidate) return;
    setCandidate({ label: candidate.version !== undefined ? `edit of version ${candidate.version}` : candidate.label, files: candidate.files.map((f) => (f.id === id ? { id, text } : f)) });
  };

  return (
    <div className="page" data-testid="policies-page">
      <div className="page-head">
        <h1>Policies</h1>
        {set ? (
          <span className="muted small" data-testid="policy-in-force">
            {set.version === null ? 'no set published: every provisioned permission is in scope' : `version ${set.version} in force · published by ${set.publishedBy ?? 'unknown'}${set.publishedAt ? ` ${ago(set.publishedAt, now)}` : ''} · ${set.hash?.slice(7, 19) ?? ''}`}
          </span>
        ) : (
          <span className="muted small">loading…</span>
        )}
        {current.error ? <span className="error small">{current.error}</span> : null}
      </div>

      <div className="stats">
        <Stat label="Version in force" value={set?.version ?? '—'} sub={set ? `${set.files.length} files` : ''} />
        <Stat label="Partitions applied" value={set ? `${set.partitions.filter((p) => p.version === set.version).length}/${set.partitions.length}` : '—'} sub="hold the version in force" />
        <Stat label="Versions in history" value={history.data?.versions.length ?? '—'} sub="applied by the workers" />
        <Stat label="Pending" value={history.data?.pending.length ?? '—'} sub="wait for a second admin" />
      </div>

      <div className="grid-policies">
        <section className="panel" data-testid="policy-candidate">
          <div className="panel-head">
            <h2>Candidate: {candidate?.label ?? '—'}</h2>
            <div className="chips">
              <button type="button" className="btn btn-small" disabled={!candidate || busy !== undefined || candidate.version !== undefined} onClick={() => candidate && void validate(candidate)} data-testid="policy-validate">
                Validate
              </button>
              <button type="button" className="btn btn-small" disabled={!candidate || busy !== undefined} onClick={() => candidate && void diff(candidate)} data-testid="policy-diff">
                Diff with in force
              </button>
              <button type="button" className="btn btn-small btn-primary" disabled={!candidate || busy !== undefined} onClick={() => candidate && (setDrill(undefined), void impact(candidate))} data-testid="policy-impact">
                Impact on the fleet
              </button>
              {canPublish ? (
                <>
                  <button type="button" className="btn btn-small btn-widen" disabled={!candidate || busy !== undefined} onClick={() => candidate && void publish(candidate, false)} data-testid="policy-publish">
                    {candidate?.version !== undefined ? 'Roll back' : 'Publish'}
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" disabled={!candidate || busy !== undefined} onClick={() => candidate && void publish(candidate, true)} title="Held until a second admin approves it">
                    Request approval
                  </button>
                </>
              ) : null}
            </div>
          </div>
          {busy ? <div className="muted small">{busy}…</div> : null}
          {error ? <div className="error small" data-testid="policy-error">{error}</div> : null}
          {candidate?.version !== undefined ? (
            <p className="muted small">Version {candidate.version} as published: preview its diff and impact, or roll back to it (published again as a new version).</p>
          ) : (
            <div className="policy-files">
              {candidate?.files.map((f) => (
                <details key={f.id} open={open === f.id} onToggle={(e) => (e.currentTarget.open ? setOpen(f.id) : open === f.id && setOpen(undefined))}>
                  <summary className="mono">{f.id}.cedar</summary>
                  <textarea className="policy-text" spellCheck={false} value={f.text} onChange={(e) => editFile(f.id, e.target.value)} rows={Math.min(18, f.text.split('\n').length + 1)} data-testid={`policy-file-${f.id}`} />
                </details>
              ))}
            </div>
          )}
          {set && candidate && (candidate.version !== undefined || candidate.files !== set.files) ? (
            <button type="button" className="linklike small" onClick={() => (setCandidate({ label: `edit of version ${set.version ?? '—'}`, files: set.files }), setResult(undefined))}>
              reset to the set in force
            </button>
          ) : null}
        </section>

        <section className="panel panel-scroll" data-testid="policy-history">
          <h2>History</h2>
          {history.data?.pending.length ? (
            <div className="panel panel-warn" data-testid="policy-pending">
              <strong>Pending publications</strong>
              {history.data.pending.map((p) => (
                <div key={p.requestId} className="small">
                  <span className="mono">{p.requestId}</span> by {p.requestedBy} {ago(p.requestedAt, now)}
                  {p.rollbackOf !== null ? ` · rollback to v${p.rollbackOf}` : ''}
                  {isAdmin && p.requestedBy !== me.sub ? (
                    <>
                      {' '}
                      <button type="button" className="btn btn-small btn-widen" onClick={() => p.requestId && void decide(p.requestId, 'approve')}>
                        Approve
                      </button>
                    </>
                  ) : null}
                  {isAdmin || p.requestedBy === me.sub ? (
                    <>
                      {' '}
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => p.requestId && void decide(p.requestId, 'reject')}>
                        Reject
                      </button>
                    </>
                  ) : null}
                </div>
              ))}
            </div>
          ) : null}
          <table className="grid-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Published</th>
                <th>By</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {history.data?.versions.map((v) => (
                <tr key={v.version} data-testid="policy-version-row">
                  <td className="mono">
                    v{v.version}
                    {v.version === set?.version ? <span className="badge status-active">in force</span> : null}
                  </td>
                  <td className="small">{ago(v.publishedAt, now)}</td>
                  <td className="small">
                    {v.publishedBy}
                    {v.approvedBy ? <div className="muted">approved by {v.approvedBy}</div> : null}
                    {v.rollbackOf !== null || v.reason ? <div className="muted">{[v.rollbackOf !== null ? `rollback to v${v.rollbackOf}` : '', v.reason ?? ''].filter(Boolean).join(' · ')}</div> : null}
                  </td>
                  <td>
                    {v.version !== set?.version ? (
                      <button type="button" className="linklike small" onClick={() => (setCandidate({ label: `version ${v.version}`, files: [], version: v.version }), setResult(undefined))}>
                        preview
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {history.data && history.data.versions.length === 0 ? <div className="empty">No version applied yet.</div> : null}
        </section>
      </div>

      {result?.kind === 'validation' ? <ValidationView v={result.v} /> : null}
      {result?.kind === 'diff' ? <DiffView d={result.d} /> : null}
      {result?.kind === 'publication' ? <PublicationView p={result.p} /> : null}
      {result?.kind === 'impact' && candidate ? (
        <ImpactView
          i={result.i}
          drill={drill}
          onDrill={(f) => {
            setDrill(f);
            void impact(candidate, f);
          }}
        />
      ) : null}
    </div>
  );
}

function Stat({ label, value, sub }: { label: string; value: ReactNode; sub: string }): ReactNode {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      <div className="stat-sub muted">{sub}</div>
    </div>
  );
}

function ValidationView({ v }: { v: PolicyValidation }): ReactNode {
  return (
    <section className="panel" data-testid="policy-validation">
      <h2>{v.valid ? 'Validates against the livescope schema' : `${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}`}</h2>
      {v.problems.map((p, k) => (
        <div key={k} className="mono small error">
          {p.file ?? '?'}.cedar{p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : ''}: {p.message}
        </div>
      ))}
    </section>
  );
}

function PublicationView({ p }: { p: PolicyPublication }): ReactNode {
  const text =
    p.status === 'published'
      ? `published version ${p.version}${p.approvedBy ? `, approved by ${p.approvedBy}` : ''}`
      : p.status === 'unchanged'
        ? `unchanged: version ${p.version} in force already has this content`
        : p.status === 'pending'
          ? `publication ${p.requestId} waits for a second admin`
          : `publication ${p.requestId} rejected`;
  return (
    <section className="panel" data-testid="policy-publication">
      <h2>{text}</h2>
    </section>
  );
}

function DiffView({ d }: { d: PolicyDiff }): ReactNode {
  return (
    <section className="panel" data-testid="policy-diff-view">
      <h2>Diff with the set in force</h2>
      {d.identical ? <div className="empty">Identical content.</div> : null}
      <div className="chips">
        {d.policies.map((p) => (
          <span key={p.id} className={`chip ${p.change === 'added' ? 'chip-plus' : p.change === 'removed' ? 'chip-minus' : 'chip-policy'}`}>
            {p.change === 'added' ? '+' : p.change === 'removed' ? '−' : '~'} {p.id}
            {p.changed?.length ? ` (${p.changed.join(', ')})` : ''}
          </span>
        ))}
      </div>
      {d.files.map((f) => (
        <div key={f.file} className="diff-file">
          <div className="mono small muted">
            {f.file}.cedar — {f.change}
          </div>
          <pre className="diff">
            {f.hunks.flatMap((h, k) => [
              <span key={`h${k}`} className="muted">{`@@ -${h.fromLine} +${h.toLine} @@\n`}</span>,
              ...h.lines.map((l, j) => (
                <span key={`${k}-${j}`} className={l.op === '+' ? 'plus' : l.op === '-' ? 'minus' : ''}>
                  {`${l.op}${l.text}\n`}
                </span>
              )),
            ])}
          </pre>
        </div>
      ))}
      {d.pairs && d.pairs.length > 0 ? <Pairs pairs={d.pairs} /> : null}
    </section>
  );
}

function Pairs({ pairs }: { pairs: PolicyDiff['pairs'] & object }): ReactNode {
  return (
    <>
    <table className="grid-table" data-testid="policy-pairs">
      <thead>
        <tr>
          <th>Kind</th>
          <th>Action</th>
          <th>Resource</th>
          <th className="num">Gain</th>
          <th className="num">Lose</th>
        </tr>
      </thead>
      <tbody>
        {pairs.slice(0, 20).map((p) => (
          <tr key={`${p.kind} ${p.action} ${p.resource}`}>
            <td>{p.kind}</td>
            <td className="mono">{p.action}</td>
            <td className="mono">{p.resource}</td>
            <td className="num plus">{p.gained ? count(p.gained) : ''}</td>
            <td className="num minus">{p.lost ? count(p.lost) : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {pairs.length > 20 ? <div className="muted small">{count(pairs.length - 20)} more pairs: see the API or `livescope policy impact`</div> : null}
    </>
  );
}

function CountsTable({ rows, keyName, onPick, picked }: { rows: readonly (ImpactCounts & { readonly name: string })[]; keyName: 'namespace' | 'kind'; onPick: (v: string) => void; picked: string | undefined }): ReactNode {
  return (
    <table className="grid-table" data-testid={`impact-by-${keyName}`}>
      <thead>
        <tr>
          <th>{keyName === 'namespace' ? 'Namespace' : 'Kind'}</th>
          <th className="num">Identities</th>
          <th className="num">Changed</th>
          <th className="num">Narrowed</th>
          <th className="num">Widened</th>
          <th className="num">Lose all</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const name = r.name;
          return (
            <tr key={name} className={picked === name ? 'selected' : ''}>
              <td>
                {r.changed > 0 ? (
                  <button type="button" className="linklike" onClick={() => onPick(name)} data-testid={`drill-${keyName}-${name}`}>
                    {name}
                  </button>
                ) : (
                  name
                )}
              </td>
              <td className="num">{count(r.identities)}</td>
              <td className="num">{count(r.changed)}</td>
              <td className={`num${r.narrowed ? ' minus' : ''}`}>{count(r.narrowed)}</td>
              <td className={`num${r.widened ? ' plus' : ''}`}>{count(r.widened)}</td>
              <td className={`num${r.losingEverything ? ' tone-bad' : ''}`}>{count(r.losingEverything)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const FIRST_ROWS = 25;

function ImpactView({ i, drill, onDrill }: { i: PolicyImpact; drill: { namespace?: string; kind?: string } | undefined; onDrill: (f: { namespace?: string; kind?: string } | undefined) => void }): ReactNode {
  const t = i.totals;
  const [all, setAll] = useState(false);
  const shown = all ? i.identities : i.identities.slice(0, FIRST_ROWS);
  return (
    <section className="panel" data-testid="policy-impact-view">
      <div className="panel-head">
        <h2>
          Impact on the live fleet{i.candidate.version !== null ? ` of version ${i.candidate.version}` : ''} (in force: {i.inForce.version ?? 'none'})
        </h2>
        <span className="muted small">
          {count(i.scanned)} identities scanned in {i.durationMs} ms, from the workers' state
        </span>
      </div>
      <div className="stats" data-testid="impact-totals">
        <div className="stat">
          <div className="stat-label">Would change</div>
          <div className="stat-value">{count(t.changed)}</div>
        </div>
        <div className="stat">
          <div className="stat-label">Narrowed</div>
          <div className="stat-value minus">{count(t.narrowed)}</div>
          <div className="stat-sub muted">{count(t.lost)} permissions lost</div>
        </div>
        <div className="stat">
          <div className="stat-label">Widened</div>
          <div className="stat-value plus">{count(t.widened)}</div>
          <div className="stat-sub muted">{count(t.gained)} permissions gained</div>
        </div>
        <div className="stat">
          <div className="stat-label">Lose everything</div>
          <div className={`stat-value${t.losingEverything ? ' tone-bad' : ''}`}>{count(t.losingEverything)}</div>
        </div>
      </div>
      {t.changed === 0 ? <div className="empty">No identity's scope would change.</div> : null}
      {t.changed > 0 ? (
        <>
          <div className="grid-2">
            <div>
              <h3>Per namespace</h3>
              <CountsTable rows={i.byNamespace.map((r) => ({ ...r, name: r.namespace }))} keyName="namespace" picked={drill?.namespace} onPick={(v) => onDrill({ namespace: v })} />
            </div>
            <div>
              <h3>Per kind</h3>
              <CountsTable rows={i.byKind.map((r) => ({ ...r, name: r.kind }))} keyName="kind" picked={drill?.kind} onPick={(v) => onDrill({ kind: v })} />
            </div>
          </div>
          <h3>
            Identities{drill ? ` — ${drill.namespace ? `namespace ${drill.namespace}` : `kind ${drill.kind ?? ''}`}` : ''} ({count(i.identities.length)}
            {i.identitiesTruncated ? ', most affected first' : ''})
            {drill ? (
              <button type="button" className="linklike small" onClick={() => onDrill(undefined)}>
                {' '}
                all
              </button>
            ) : null}
          </h3>
          <table className="grid-table" data-testid="impact-identities">
            <thead>
              <tr>
                <th>Identity</th>
                <th>Kind</th>
                <th>Namespace</th>
                <th className="num">Before → after</th>
                <th>Lost</th>
                <th>Gained</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((x) => (
                <tr key={x.identityId} data-testid="impact-identity">
                  <td>
                    <Link className="mono" to={identityPath(x.identityId)}>
                      {x.identityId}
                    </Link>
                    {x.losesEverything ? <span className="badge sev-critical">loses everything</span> : null}
                  </td>
                  <td>{x.kind}</td>
                  <td>{x.namespace}</td>
                  <td className="num">
                    {x.before} → {x.after}
                  </td>
                  <td>
                    <div className="chips">
                      {x.lost.map((p) => (
                        <span key={perm(p)} className="chip chip-minus mono">
                          − {perm(p)}
                        </span>
                      ))}
                    </div>
                  </td>
                  <td>
                    <div className="chips">
                      {x.gained.map((p) => (
                        <span key={perm(p)} className="chip chip-plus mono">
                          + {perm(p)}
                        </span>
                      ))}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length < i.identities.length ? (
            <button type="button" className="linklike small" onClick={() => setAll(true)} data-testid="impact-show-all">
              show all {count(i.identities.length)}
            </button>
          ) : null}
          {i.pairs.length > 0 ? (
            <>
              <h3>(action, resource) pairs per kind</h3>
              <Pairs pairs={i.pairs} />
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
