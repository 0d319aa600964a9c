/** Formatting for people: times, durations, countdowns, numbers. Pure. */

export function clock(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

export function dateTime(iso: string): string {
  const d = new Date(iso);
  return `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB', { hour12: false })}`;
}

/** `1 h 02 m`, `4 m 12 s`, `12 s`, `340 ms`. */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `in 4 m 12 s` until `iso`, or `expired` once it passed. */
export function countdown(iso: string, nowMs: number): string {
  const left = Date.parse(iso) - nowMs;
  return left <= 0 ? 'expired' : `in ${duration(left)}`;
}

/** `12 s ago`, `just now`. */
export function ago(iso: string, nowMs: number): string {
  const d = nowMs - Date.parse(iso);
  if (d < 1500) return 'just now';
  return `${duration(d)} ago`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `db:read db/payments` for a permission. */
export function perm(p: { readonly action: string; readonly resource: string }): string {
  return `${p.action} ${p.resource}`;
}
