/** A nullable timestamp column as an ISO string. */
export const isoOrNull = (d: Date | null): string | null => (d === null ? null : d.toISOString());
