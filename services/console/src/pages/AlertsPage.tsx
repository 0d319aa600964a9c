import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { useSession } from '../api/session';
import type { Alert, AlertAck, AlertsList, Severity } from '../api/types';
import { SeverityBadge } from '../components/Badges';
import { ChartView, colors } from '../components/Chart';
import { StreamIndicator } from '../components/StreamIndicator';
import { useEventStream } from '../hooks/useEventStream';
import { useNow } from '../hooks/useNow';
import { ago, clock, count, dateTime } from '../format';
import { identityPath, Link } from '../router';

const TYPES = ['out-of-scope-attempt', 'excess-privilege', 'sudden-widening', 'human-use', 'secret-access-without-session', 'token-replay', 'secret-leaked', 'stale-enforcer', 'rejected-command'];
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
const ROW_PX = 58;

interface Filters {
  readonly type: string;
  readonly severity: string;
  readonly identity: string;
  readonly unacknowledged: boolean;
}

const matches = (a: Alert, f: Filters): boolean =>
  (!f.type || a.type === f.type) && (!f.severity || SEVERITIES.indexOf(a.severity) >= SEVERITIES.indexOf(f.severity as Severity)) && (!f.identity || a.identityId === f.identity) && (!f.unacknowledged || a.acknowledgement === null);

/**
 * Drift alerts as they are raised: a page from `GET /v1/alerts`, then the alert stream resumed
 * from the newest one (Last-Event-ID), so nothing falls between the two; acknowledgements by
 * anyone arrive on the same stream.
 */
export function AlertsPage(): ReactNode {
  const { api, me } = useSession();
  const now = useNow(5000);
  const [filters, setFilters] = useState<Filters>({ type: '', severity: '', identity: '', unacknowledged: false });
  const [identityInput, setIdentityInput] = useState('');
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [resumeFrom, setResumeFrom] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [fresh, setFresh] = useState<ReadonlyMap<string, number>>(new Map());

  const query = useMemo(() => {
    const p = new URLSearchParams();
    if (filters.type) p.set('type', filters.type);
    if (filters.severity) p.set('severity', filters.severity);
    if (filters.identity) p.set('identity', filters.identity);
    return p;
  }, [filters.type, filters.severity, filters.identity]);

  const load = useCallback(
    (before: string | null) => {
      const p = new URLSearchParams(query);
      p.set('limit', '200');
      if (filters.unacknowledged) p.set('acknowledged', 'false');
      if (before) p.set('cursor', before);
      api.get<AlertsList>(`/v1/alerts?${p.toString()}`).then(
        (l) => {
          setError(undefined);
          setAlerts((old) => (before ? [...old, ...l.alerts] : l.alerts));
          setNext(l.nextCursor);
          // Resume the stream right after the newest alert listed ('0' when none: every new one).
          if (!before) setResumeFrom(l.alerts[0]?.id ?? '0');
        },
        (e: Error) => setError(e.message),
      );
    },
    [api, query, filters.unacknowledged],
  );
  useEffect(() => {
    setResumeFrom(null);
    setAlerts([]);
    load(null);
  }, [load]);

  const streamPath = resumeFrom === null ? null : `/v1/alerts/stream?${query.toString()}`;
  const stream = useEventStream(
    streamPath,
    {
      onEvent: (m) => {
        if (m.event === 'drift.alert') {
          const a = JSON.parse(m.data) as Alert;
          setAlerts((old) => (old.some((o) => o.id === a.id) ? old : [a, ...old]));
          setFresh((f) => new Map(f).set(a.id, Date.now() + 4000));
        } else if (m.event === 'alert.acknowledged') {
          const k = JSON.parse(m.data) as AlertAck;
          setAlerts((old) => old.map((a) => (a.id === k.id ? { ...a, acknowledgement: { by: k.by, at: k.at, note: k.note } } : a)));
        }
      },
    },
    resumeFrom,
  );

  const shown = useMemo(() => alerts.filter((a) => matches(a, filters)), [alerts, filters]);
  const byType = useMemo(() => {
    const counts = new Map<string, number>();
    for (const a of shown) counts.set(a.type, (counts.get(a.type) ?? 0) + 1);
    const types = [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0));
    return { labels: types, datasets: [{ label: 'alerts', data: types.map((t) => counts.get(t) ?? 0), backgroundColor: colors.revocation, borderRadius: 3 }] };
  }, [shown]);

  const acknowledge = async (a: Alert, note: string): Promise<void> => {
    try {
      const k = await api.post<AlertAck>(`/v1/alerts/${a.id}/ack`, note.trim() ? { note: note.trim() } : {});
      setAlerts((old) => old.map((x) => (x.id === a.id ? { ...x, acknowledgement: { by: k.by, at: k.at, note: k.note } } : x)));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : (e as Error).message);
    }
  };

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 8 });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : 0;
  const requested = useRef<string | null>(null);
  useEffect(() => {
    if (next && requested.current !== next && lastIndex >= shown.length - 20) {
      requested.current = next;
      load(next);
    }
  }, [lastIndex, shown.length, next, load]);

  return (
    <div className="page" data-testid="alerts-page">
      <div className="page-head">
        <h1>Drift alerts</h1>
        <StreamIndicator state={stream} what="alerts" />
        {error ? <span className="error small">{error}</span> : null}
      </div>
      <div className="grid-alerts">
        <section className="panel">
          <div className="panel-head">
            <div className="filters">
              <select aria-label="Type" value={filters.type} onChange={(e) => setFilters((f) => ({ ...f, type: e.target.value }))} data-testid="alert-type">
                <option value="">all types</option>
                {TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              <select aria-label="Minimum severity" value={filters.severity} onChange={(e) => setFilters((f) => ({ ...f, severity: e.target.value }))} data-testid="alert-severity">
                <option value="">any severity</option>
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    ≥ {s}
                  </option>
                ))}
              </select>
              <input
                type="search"
                placeholder="identity id"
                aria-label="Identity"
                value={identityInput}
                onChange={(e) => setIdentityInput(e.target.value)}
                onBlur={() => setFilters((f) => ({ ...f, identity: identityInput.trim() }))}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') setFilters((f) => ({ ...f, identity: identityInput.trim() }));
                }}
                data-testid="alert-identity"
              />
              <label className="check">
                <input type="checkbox" checked={filters.unacknowledged} onChange={(e) => setFilters((f) => ({ ...f, unacknowledged: e.target.checked }))} data-testid="alert-unacked" /> unacknowledged only
              </label>
            </div>
            <span className="muted small" data-testid="alert-count">
              {count(shown.length)} shown
            </span>
          </div>
          <div className="tr th alerts-row">
            <span>When</span>
            <span>Severity</span>
            <span>Alert</span>
            <span>Acknowledgement</span>
          </div>
          <div className="tbody tall" ref={scroller} data-testid="alert-list">
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {items.map((v) => {
                const a = shown[v.index]!;
                return (
                  <div
                    key={a.id}
                    className={`tr alerts-row${(fresh.get(a.id) ?? 0) > now ? ' flash' : ''}${a.acknowledgement ? ' acked' : ''}`}
                    style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}
                    data-testid="alert-row"
                    data-alert={a.id}
                    data-type={a.type}
                    data-identity={a.identityId ?? ''}
                  >
                    <span className="small" title={dateTime(a.at)}>
                      <span className="mono">{clock(a.at)}</span>
                      <br />
                      <span className="muted">{ago(a.at, now)}</span>
                    </span>
                    <span>
                      <SeverityBadge severity={a.severity} />
                    </span>
                    <span className="alert-what">
                      <span>
                        <b>{a.type}</b>{' '}
                        {a.identityId ? (
                          <Link className="mono" to={identityPath(a.identityId)}>
                            {a.identityId}
                          </Link>
                        ) : null}
                        {a.enforcerId ? <span className="muted small"> at {a.enforcerId}</span> : null}
                      </span>
                      <span className="muted small ellipsis" title={a.summary}>
                        {a.summary}
                      </span>
                    </span>
                    <span>{a.acknowledgement ? <Acked ack={a.acknowledgement} now={now} /> : me.can.acknowledgeAlerts ? <AckButton onAck={(note) => acknowledge(a, note)} /> : <span className="muted small">unacknowledged</span>}</span>
                  </div>
                );
              })}
            </div>
            {shown.length === 0 ? <div className="empty">No alert matches. New ones appear here as they are raised.</div> : null}
          </div>
        </section>
        <section className="panel">
          <h2>By type</h2>
          <ChartView type="bar" label="Alerts shown, by type" data={byType} height={260} options={{ indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } }, plugins: { legend: { display: false } } }} />
          <p className="muted small">Of the {count(shown.length)} alerts shown. Acknowledging records your token subject; everyone's console updates live.</p>
        </section>
      </div>
    </div>
  );
}

function Acked({ ack, now }: { ack: NonNullable<Alert['acknowledgement']>; now: number }): ReactNode {
  return (
    <span className="small" data-testid="alert-acked" title={ack.note ?? ''}>
      ✓ <b>{ack.by}</b> <span className="muted">{ago(ack.at, now)}</span>
      {ack.note ? <span className="muted ellipsis"> — {ack.note}</span> : null}
    </span>
  );
}

function AckButton({ onAck }: { onAck: (note: string) => Promise<void> }): ReactNode {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" className="btn btn-small" onClick={() => setOpen(true)} data-testid="ack-button">
        Acknowledge
      </button>
    );
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        void onAck(note).finally(() => setBusy(false));
      }}
    >
      <input placeholder="note (optional)" aria-label="Note" value={note} onChange={(e) => setNote(e.target.value)} data-testid="ack-note" autoFocus />
      <button type="submit" className="btn btn-small btn-primary" disabled={busy} data-testid="ack-confirm">
        Ack
      </button>
    </form>
  );
}
