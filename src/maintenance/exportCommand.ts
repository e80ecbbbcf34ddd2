/**
 * `export [FILE] [--format csv|ndjson] [--customer ID]`: the live rows of the table (or of one
 * customer) as past checkouts, in the format `import` reads — `email`, `phoneNumber`, `createdAt`
 * (ISO 8601) — plus `id`, `linkedId` and `linkPrecedence`, which an import ignores: so history can
 * move between databases. Rows in id order, a page at a time; `FILE` ending in `.gz` is gzipped;
 * without a FILE (or `-`), standard output.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Database } from '../db/database.js';
import { exportPage, type ExportedRow } from '../db/exportQueries.js';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_COLUMNS = ['email', 'phoneNumber', 'createdAt', 'id', 'linkedId', 'linkPrecedence'] as const;

const PAGE = 10_000;

/** Writes every page to `out`; the number of rows written. */
export async function writeExport(
  db: Database,
  out: Writable,
  { format, customerOf = null }: { format: ExportFormat; customerOf?: number | null },
): Promise<number> {
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (format === 'csv') await write(`${EXPORT_COLUMNS.join(',')}\n`);
  let written = 0;
  for (let afterId = 0; ;) {
    const page = await exportPage(db, afterId, PAGE, customerOf);
    if (page.length > 0) await write(page.map((row) => (format === 'csv' ? csvLine(row) : ndjsonLine(row))).join(''));
    written += page.length;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) return written;
    afterId = last.id;
  }
}

function fields(row: ExportedRow): (string | number | null)[] {
  return [row.email, row.phoneNumber, row.createdAt.toISOString(), row.id, row.linkedId, row.linkPrecedence];
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; null is empty. */
export function csvLine(row: ExportedRow): string {
  return `${fields(row)
    .map((value) => {
      if (value === null) return '';
      const text = String(value);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(',')}\n`;
}

export function ndjsonLine(row: ExportedRow): string {
  const values = fields(row);
  return `${JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((column, index) => [column, values[index]])))}\n`;
}

/** Runs the export to `file` (or standard output) and says on `err` how many rows it wrote; the exit status. */
export async function runExport(
  db: Database,
  file: string | undefined,
  options: { format: ExportFormat; customerOf: number | null },
  { stdout, err }: { stdout: Writable; err: Pick<NodeJS.WritableStream, 'write'> },
): Promise<number> {
  const toFile = file !== undefined && file !== '-';
  const target = toFile ? createWriteStream(file) : stdout;
  const out = toFile && file.endsWith('.gz') ? createGzip() : target;
  if (out !== target) out.pipe(target);
  const written = await writeExport(db, out, options);
  if (toFile) {
    out.end();
    await once(target, 'finish');
  }
  err.write(`exported ${written.toLocaleString('en-US')} row(s)${toFile ? ` to ${file}` : ''}\n`);
  return 0;
}
