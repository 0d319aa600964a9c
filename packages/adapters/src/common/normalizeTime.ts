/**
 * Normalises the timestamps found in vendor logs to RFC 3339 UTC with millisecond precision:
 * RFC 3339 with any fraction (Vault's nanoseconds), Panther's normalised `2024-06-02 20:27:12[.000000000]`
 * (UTC without a zone), and epoch seconds. Returns undefined for anything else.
 */
export function normalizeTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return fromMs(value * 1000);
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const s = value.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return fromMs(Date.parse(s));
  const panther = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(s);
  if (panther) return fromMs(Date.parse(`${panther[1]}T${panther[2]}${panther[3] ?? ''}Z`));
  return undefined;
}

const MONTHS: Readonly<Record<string, number>> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/**
 * CloudTrail's `responseElements.credentials.expiration` in the console's format, e.g.
 * `Jun 2, 2024, 10:37:12 PM` or `Jan 01, 2019 0:00:00 PM` (UTC). ISO values are accepted as well.
 */
export function parseAwsExpiration(value: unknown): string | undefined {
  const iso = normalizeTime(value);
  if (iso) return iso;
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const m = /^([A-Za-z]{3})[a-z]*\s+(\d{1,2}),\s*(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})\s*([AP]M)?$/i.exec(value.trim());
  if (!m) return undefined;
  const month = MONTHS[m[1]!.toLowerCase()];
  if (month === undefined) return undefined;
  let hour = Number(m[4]);
  const meridiem = m[7]?.toUpperCase();
  if (meridiem !== undefined) hour = (hour % 12) + (meridiem === 'PM' ? 12 : 0);
  return fromMs(Date.UTC(Number(m[3]), month, Number(m[2]), hour, Number(m[5]), Number(m[6])));
}

function fromMs(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
