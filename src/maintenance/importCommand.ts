/**
 * `import FILE [--dry-run] [--reject FILE] [--max-errors N] [--chunk-size N]`: reads the file
 * (progress on stderr), writes its bad lines to the reject file (line number and reason, never a
 * value), imports the rest (`import.ts`) and says on stdout what changed — counts only.
 */
import { stat, writeFile } from 'node:fs/promises';
import type { Database } from '../db/database.js';
import { hasImportRunTable } from '../db/importQueries.js';
import { tableNormaliser } from '../db/normalFormStore.js';
import { COUNT_NAMES, importCheckouts, type ImportCounts, type ImportResult } from './import.js';
import { ImportFileError, openInput, readCheckouts, REJECT_REASONS, type ReadResult } from './importFile.js';
import { formatSeconds, progressOn } from './progress.js';

export interface ImportCommandOptions {
  file: string;
  dryRun: boolean;
  /** Where bad lines go; default FILE.rejects.csv beside a file, none for standard input. */
  reject: string | null;
  maxErrors: number;
  chunkSize: number;
  maxCustomerContacts: number;
  stopAfterChunks?: number;
}

export interface Streams {
  out: Pick<NodeJS.WritableStream, 'write'>;
  err: NodeJS.WriteStream;
}

/** The exit status: 0 imported (bad lines skipped), 1 the file could not be imported. */
export async function runImport(db: Database, options: ImportCommandOptions, { out, err }: Streams): Promise<number> {
  const startedAt = Date.now();
  if (!(await hasImportRunTable(db))) {
    err.write('import failed: the database has no "ImportRun" table (the checkpoint): run `identity-service migrate` first\n');
    return 1;
  }
  const normaliser = await tableNormaliser(db);
  let read: ReadResult;
  try {
    const size = options.file === '-' ? 0 : ((await stat(options.file).catch(() => null))?.size ?? 0);
    const progress = progressOn(err, { rate: true });
    let shown = 0;
    if (size > 0) progress.start('reading', size);
    read = await readCheckouts(openInput(options.file), {
      normaliser,
      maxErrors: options.maxErrors,
      onBytes: (bytes) => {
        if (size === 0) return;
        progress.advance(bytes - shown);
        shown = bytes;
      },
    });
    if (size > 0) progress.finish();
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    err.write(`import failed: ${error.message}\n`);
    return 1;
  }
  const rejectFile = options.reject ?? (options.file === '-' ? null : `${options.file}.rejects.csv`);
  if (read.rejected.length > 0 && rejectFile !== null) {
    await writeFile(rejectFile, `line,reason\n${read.rejected.map(({ line, reason }) => `${line},${reason}\n`).join('')}`);
  }
  const result = await importCheckouts(db, read.checkouts, read.digest, {
    dryRun: options.dryRun,
    chunkSize: options.chunkSize,
    maxCustomerContacts: options.maxCustomerContacts,
    progress: progressOn(err, { rate: true }),
    ...(options.stopAfterChunks === undefined ? {} : { stopAfterChunks: options.stopAfterChunks }),
  });
  out.write(formatImport(read, rejectFile, result, options.dryRun, Date.now() - startedAt));
  return result.stopped !== null ? 3 : 0;
}

const count = (value: number) => value.toLocaleString('en-US');

const LABELS: Record<keyof ImportCounts, string> = {
  inserted: 'rows inserted, each with its checkout time',
  customersJoined: 'customers joined into others',
  primariesChanged: 'primaries changed (an older checkout, or a join)',
  relinked: 'existing rows relinked to a new primary',
  redundant: 'existing rows made redundant (soft-deleted: an older checkout brought their values)',
  merges: 'checkouts that joined customers without a row (logged as merges)',
  unchanged: 'checkouts that changed nothing (their customer knew them)',
  blocked: 'checkouts with only blocked values (nothing written, as /identify)',
  separated: 'checkouts narrowed by a separation (their phone not linked)',
  quarantined: 'values quarantined by the size cap',
};

export function formatImport(
  read: ReadResult,
  rejectFile: string | null,
  result: ImportResult,
  dryRun: boolean,
  elapsedMs: number,
): string {
  const lines = [
    `read ${count(read.records)} ${read.format === 'csv' ? 'CSV' : 'NDJSON'} line(s): ${count(read.checkouts.length)} checkout(s), ${count(read.rejected.length)} rejected${
      read.rejected.length > 0 && rejectFile !== null ? ` (line numbers and reasons in ${rejectFile})` : ''
    }`,
  ];
  const byReason = REJECT_REASONS.map((reason) => [reason, read.rejected.filter((r) => r.reason === reason).length] as const).filter(
    ([, n]) => n > 0,
  );
  if (byReason.length > 0) lines.push(`  ${byReason.map(([reason, n]) => `${reason}: ${count(n)}`).join(', ')}`);
  if (result.alreadyImported !== null) {
    lines.push(`this file was imported completely on ${result.alreadyImported.toISOString()}: nothing to do`);
    return `${lines.join('\n')}\n`;
  }
  if (result.resumedAt > 0)
    lines.push(`resuming: ${count(result.resumedAt)} of ${count(result.chunks)} chunk(s) were committed by an earlier run`);
  lines.push(`${count(result.chunks)} chunk(s)${dryRun ? ', each rolled back' : ''}:`);
  for (const name of COUNT_NAMES) lines.push(`  ${count(result.counts[name]).padStart(9)}  ${LABELS[name]}`);
  const elapsed = formatSeconds(elapsedMs);
  if (result.stopped !== null) lines.push(`stopped after ${count(result.stopped)} chunk(s) (${elapsed}); run again to resume`);
  else lines.push(dryRun ? `dry run: nothing written (${elapsed})` : `committed in ${elapsed}`);
  return `${lines.join('\n')}\n`;
}
