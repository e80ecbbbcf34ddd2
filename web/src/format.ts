/** How values read on the page. Timestamps in UTC: analysts compare them across time zones. */

/** `2023-04-01T00:00:00.374Z` → `2023-04-01 00:00:00 UTC`. */
export function formatTimestamp(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** `1 contact`, `4 contacts`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** Shown where a contact has no email or no phone number. */
export const NONE = '—';
