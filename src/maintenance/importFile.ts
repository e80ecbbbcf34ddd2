/**
 * Reading an import file: past checkouts as CSV with a header (RFC 4180: quoted fields, doubled
 * quotes, line breaks inside quotes) or NDJSON (one object a line), from a file or standard input,
 * gzipped or not (told by its first two bytes, whatever its name). Each record is normalised and
 * validated exactly as /identify does it (the table's `Normaliser`), and its `createdAt` read as
 * ISO 8601; a bad record is reported by line number and reason, never by its values.
 *
 * The checkouts are kept in columns (a million take tens of MB), and the text is hashed as it is
 * read: the digest names the run's checkpoint.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Normaliser } from '../identity/normalise.js';

export type RejectReason =
  'missing_created_at' | 'invalid_created_at' | 'no_identifier' | 'invalid_email' | 'invalid_phone' | 'too_long' | 'malformed_line';

export const REJECT_REASONS: readonly RejectReason[] = [
  'missing_created_at',
  'invalid_created_at',
  'no_identifier',
  'invalid_email',
  'invalid_phone',
  'too_long',
  'malformed_line',
];

export interface Rejected {
  line: number;
  reason: RejectReason;
}

/** The file cannot be imported at all (unreadable, no createdAt column, too many bad lines): exit 1, this message. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

/** The checkouts of a file, in columns, in file order. */
export class Checkouts {
  readonly lines: number[] = [];
  readonly emails: (string | null)[] = [];
  readonly phones: (string | null)[] = [];
  /** Microseconds since the epoch (timestamptz's precision; exact in a double until the year 2255). */
  readonly createdAt: number[] = [];

  get length(): number {
    return this.lines.length;
  }

  push(line: number, email: string | null, phone: string | null, createdAt: number): void {
    this.lines.push(line);
    this.emails.push(email);
    this.phones.push(phone);
    this.createdAt.push(createdAt);
  }
}

export interface ReadResult {
  checkouts: Checkouts;
  rejected: Rejected[];
  /** Data lines read (records), header excluded. */
  records: number;
  format: 'csv' | 'ndjson';
  /** SHA-256 of the text (after gunzip). */
  digest: string;
}

export interface ReadOptions {
  normaliser: Normaliser;
  /** Stop with an ImportFileError once more lines than this are bad. */
  maxErrors: number;
  /** Called with the bytes read so far (compressed, for a gzipped file). */
  onBytes?: (bytes: number) => void;
}

/** A field longer than this is refused whole (`too_long`): no identifier is nearly this long. */
const MAX_FIELD_LENGTH = 1_000;

/** `-` is standard input. */
export function openInput(file: string): Readable {
  if (file === '-') return process.stdin;
  return createReadStream(file);
}

export async function readCheckouts(input: Readable, options: ReadOptions): Promise<ReadResult> {
  const hash = createHash('sha256');
  const checkouts = new Checkouts();
  const rejected: Rejected[] = [];
  let records = 0;
  let format: 'csv' | 'ndjson' | null = null;
  let csv: CsvRecords | null = null;
  let columns: Columns | null = null;

  const reject = (line: number, reason: RejectReason) => {
    rejected.push({ line, reason });
    if (rejected.length > options.maxErrors) {
      throw new ImportFileError(`more than ${options.maxErrors} bad line(s) (--max-errors): stopped at line ${line}; nothing was written`);
    }
  };
  const take = (line: number, raw: RawCheckout | RejectReason) => {
    records++;
    if (typeof raw === 'string') return reject(line, raw);
    const checked = checkCheckout(raw, options.normaliser);
    if (typeof checked === 'string') return reject(line, checked);
    checkouts.push(line, checked.email, checked.phoneNumber, checked.createdAt);
  };
  const onLine = (text: string, line: number) => {
    if (format === null) {
      if (text.trim() === '') return;
      format = text.trimStart().startsWith('{') ? 'ndjson' : 'csv';
      if (format === 'csv') csv = new CsvRecords();
    }
    if (format === 'ndjson') {
      if (text.trim() === '') return;
      take(line, ndjsonCheckout(text));
      return;
    }
    const record = (csv as CsvRecords).push(text, line);
    if (record === null) return;
    if (columns === null) {
      if (!record.ok) throw new ImportFileError(`the header (line ${record.line}) is not valid CSV`);
      columns = headerColumns(record.fields);
      return;
    }
    if (!record.ok) return take(record.line, 'malformed_line');
    if (record.fields.length === 1 && record.fields[0] === '') return;
    take(record.line, csvCheckout(record.fields, columns));
  };

  const lines = new LineSplitter(onLine);
  try {
    for await (const text of decodedText(input, hash, options.onBytes)) lines.push(text);
    lines.end();
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImportFileError('the file does not exist');
    if (code === 'EACCES') throw new ImportFileError('the file cannot be read (permission denied)');
    if (code === 'EISDIR') throw new ImportFileError('the path is a directory, not a file');
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') throw new ImportFileError('the file starts like gzip but does not decompress');
    throw error;
  }
  const pending = (csv as CsvRecords | null)?.end();
  if (pending) take(pending.line, 'malformed_line');
  if (format === null) throw new ImportFileError('the file is empty');
  if (format === 'csv' && columns === null) throw new ImportFileError('the file has no header line');
  return { checkouts, rejected, records, format, digest: hash.digest('hex') };
}

/** The stream's text, gunzipped when it starts with gzip's magic bytes; hashed as it goes. */
async function* decodedText(input: Readable, hash: ReturnType<typeof createHash>, onBytes?: (bytes: number) => void) {
  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of input) {
      bytes += (chunk as Buffer).length;
      onBytes?.(bytes);
      yield chunk as Buffer;
    }
  };
  const source = counted();
  const first = await source.next();
  if (first.done) return;
  const gzipped = first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
  const all = async function* () {
    yield first.value;
    yield* source;
  };
  let body: AsyncIterable<Buffer> = all();
  if (gzipped) {
    const gunzip = createGunzip();
    const feed = (async () => {
      for await (const chunk of all()) if (!gunzip.write(chunk)) await new Promise((resolve) => gunzip.once('drain', resolve));
      gunzip.end();
    })();
    feed.catch((error: unknown) => gunzip.destroy(error as Error));
    body = gunzip;
  }
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    hash.update(chunk);
    yield decoder.decode(chunk, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Physical lines (LF or CRLF), numbered from 1. */
class LineSplitter {
  private rest = '';
  private line = 0;
  constructor(private readonly onLine: (text: string, line: number) => void) {}

  push(text: string): void {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() as string;
    for (const part of parts) this.onLine(part.endsWith('\r') ? part.slice(0, -1) : part, ++this.line);
  }

  end(): void {
    if (this.rest !== '') this.onLine(this.rest.endsWith('\r') ? this.rest.slice(0, -1) : this.rest, ++this.line);
    this.rest = '';
  }
}

type CsvRecord = { ok: true; fields: string[]; line: number } | { ok: false; line: number };

/** RFC 4180 records from physical lines: a record whose quotes are open continues on the next line. */
class CsvRecords {
  private pending: string | null = null;
  private startLine = 0;

  /** The record that ends on this line, or null while a quoted field is open. */
  push(text: string, line: number): CsvRecord | null {
    const record = this.pending === null ? text : `${this.pending}\n${text}`;
    if (this.pending === null) this.startLine = line;
    if (!text.includes('"') && this.pending === null) return { ok: true, fields: text.split(','), line };
    const fields = splitQuoted(record);
    if (fields === OPEN) {
      this.pending = record;
      return null;
    }
    this.pending = null;
    return fields === null ? { ok: false, line: this.startLine } : { ok: true, fields, line: this.startLine };
  }

  /** A quoted field still open at the end of the file. */
  end(): { line: number } | null {
    return this.pending === null ? null : { line: this.startLine };
  }
}

/** A quoted field that the text ends inside: the record goes on on the next line. */
const OPEN = Symbol('open');

/**
 * Fields of one record with quotes; null when a quote stands where RFC 4180 allows none (inside an
 * unquoted field, or after a closing quote); OPEN when a quoted field is still open at the end.
 */
function splitQuoted(record: string): string[] | null | typeof OPEN {
  const fields: string[] = [];
  let malformed = false;
  let i = 0;
  for (;;) {
    if (record[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = record.indexOf('"', j);
        if (close === -1) return OPEN;
        value += record.slice(j, close);
        if (record[close + 1] === '"') {
          value += '"';
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      fields.push(value);
      if (i === record.length) return malformed ? null : fields;
      if (record[i] !== ',') {
        // Text after a closing quote: malformed, but a later quote may still open a field that goes on.
        malformed = true;
        const comma = record.indexOf(',', i);
        if (comma === -1) return null;
        i = comma + 1;
        continue;
      }
      i++;
    } else {
      const comma = record.indexOf(',', i);
      const value = comma === -1 ? record.slice(i) : record.slice(i, comma);
      // A quote inside an unquoted field opens nothing (it is simply wrong).
      if (value.includes('"')) malformed = true;
      fields.push(value);
      if (comma === -1) return malformed ? null : fields;
      i = comma + 1;
    }
  }
}

interface Columns {
  email: number;
  phoneNumber: number;
  createdAt: number;
  count: number;
}

function headerColumns(fields: readonly string[]): Columns {
  const names = fields.map((field) => field.trim().replace(/^\uFEFF/, ''));
  const at = (name: string) => names.indexOf(name);
  const columns = { email: at('email'), phoneNumber: at('phoneNumber'), createdAt: at('createdAt'), count: names.length };
  if (columns.createdAt === -1) throw new ImportFileError('the header has no createdAt column: every checkout needs its time');
  if (columns.email === -1 && columns.phoneNumber === -1)
    throw new ImportFileError('the header has neither an email nor a phoneNumber column');
  return columns;
}

interface RawCheckout {
  email: string | null;
  phoneNumber: string | number | null;
  createdAt: string | null;
}

function csvCheckout(fields: readonly string[], columns: Columns): RawCheckout | RejectReason {
  if (fields.length !== columns.count) return 'malformed_line';
  const value = (index: number) => (index === -1 ? null : (fields[index] as string));
  return { email: value(columns.email), phoneNumber: value(columns.phoneNumber), createdAt: value(columns.createdAt) };
}

function ndjsonCheckout(text: string): RawCheckout | RejectReason {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'malformed_line';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'malformed_line';
  const { email = null, phoneNumber = null, createdAt = null } = parsed as Record<string, unknown>;
  if (email !== null && typeof email !== 'string') return 'invalid_email';
  // As the HTTP schema: a string, or a non-negative integer.
  if (phoneNumber !== null && typeof phoneNumber !== 'string' && !(Number.isSafeInteger(phoneNumber) && (phoneNumber as number) >= 0)) {
    return 'invalid_phone';
  }
  if (createdAt !== null && typeof createdAt !== 'string') return 'invalid_created_at';
  return { email, phoneNumber: phoneNumber as string | number | null, createdAt };
}

interface CheckedCheckout {
  email: string | null;
  phoneNumber: string | null;
  createdAt: number;
}

function checkCheckout(raw: RawCheckout, normaliser: Normaliser): CheckedCheckout | RejectReason {
  const long = (value: string | number | null) => typeof value === 'string' && value.length > MAX_FIELD_LENGTH;
  if (long(raw.email) || long(raw.phoneNumber) || long(raw.createdAt)) return 'too_long';
  if (raw.createdAt === null || raw.createdAt.trim() === '') return 'missing_created_at';
  const createdAt = parseTimestamp(raw.createdAt);
  if (createdAt === null) return 'invalid_created_at';
  const normalised = normaliser.identifiers({ email: raw.email, phoneNumber: raw.phoneNumber });
  if (!normalised.ok) {
    if (normalised.code === 'MISSING_IDENTIFIER') return 'no_identifier';
    return normalised.code === 'INVALID_EMAIL' ? 'invalid_email' : 'invalid_phone';
  }
  return { ...normalised.value, createdAt };
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * ISO 8601 (a date, or a date and time; seconds and fractions optional) to microseconds since the
 * epoch. No offset means UTC. Null when it is not such a time, or not a real date, or outside
 * the years 1900–9999.
 */
export function parseTimestamp(text: string): number | null {
  const match = ISO_8601.exec(text.trim());
  if (match === null) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (year < 1900 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day) return null;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
    if (Math.abs(offsetMinutes) > 18 * 60) return null;
  }
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  return ms * 1000 + micros - offsetMinutes * 60_000_000;
}

/** Microseconds since the epoch as ISO 8601 with six fraction digits: what the table stores, exactly. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  return `${new Date(ms).toISOString().slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}
