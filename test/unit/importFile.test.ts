/**
 * Reading import files: RFC 4180 CSV (quotes, doubled quotes, line breaks inside quotes, CRLF, a
 * BOM), NDJSON, gzip by its magic bytes, ISO 8601 times to the microsecond, and each bad line's
 * reason by line number — the line where its record starts.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PLAIN_NORMALISER } from '../../src/identity/normalise.js';
import { formatMicros, ImportFileError, parseTimestamp, readCheckouts } from '../../src/maintenance/importFile.js';

const read = (text: string | Buffer, maxErrors = Number.POSITIVE_INFINITY) =>
  readCheckouts(Readable.from([Buffer.from(text)]), { normaliser: PLAIN_NORMALISER, maxErrors });

const rows = async (text: string | Buffer) => {
  const { checkouts, rejected } = await read(text);
  return {
    checkouts: checkouts.lines.map((line, i) => [
      line,
      checkouts.emails[i],
      checkouts.phones[i],
      formatMicros(checkouts.createdAt[i] as number),
    ]),
    rejected,
  };
};

describe('reading an import file', () => {
  it('reads CSV with quoted fields, doubled quotes, a line break inside quotes, CRLF and a BOM; other columns ignored', async () => {
    const csv =
      '\uFEFForderId,email,phoneNumber,createdAt\r\n1,"a,b@x.io",111,2025-01-01T00:00:00Z\r\n2,"""q""@x.io","22\n2",2025-01-02\r\n3,c@x.io,,2025-01-03T10:00:00.123456+02:00\r\n';
    assert.deepEqual(await rows(csv), {
      checkouts: [
        [2, 'a,b@x.io', '111', '2025-01-01T00:00:00.000000Z'],
        // A line break inside quotes: one record, numbered by the line it starts on (the phone's break is a separator).
        [3, '"q"@x.io', '222', '2025-01-02T00:00:00.000000Z'],
        [5, 'c@x.io', null, '2025-01-03T08:00:00.123456Z'],
      ],
      rejected: [],
    });
  });

  it('reads NDJSON, gzipped, with integer phones and blank lines', async () => {
    const text =
      '{"email":"A@X.io","phoneNumber":5550109999,"createdAt":"2025-01-01T00:00:00Z"}\n\n{"phoneNumber":"+1 (555) 010-9999","createdAt":"2025-01-02"}\n[1]\n{"email":7,"createdAt":"2025-01-01"}\n';
    assert.deepEqual(await rows(gzipSync(text)), {
      checkouts: [
        [1, 'a@x.io', '5550109999', '2025-01-01T00:00:00.000000Z'],
        [3, null, '+15550109999', '2025-01-02T00:00:00.000000Z'],
      ],
      rejected: [
        { line: 4, reason: 'malformed_line' },
        { line: 5, reason: 'invalid_email' },
      ],
    });
  });

  it('names each bad line by its reason and never half-reads it', async () => {
    const csv = [
      'email,phoneNumber,createdAt',
      'a@x.io,111,',
      'a@x.io,111,2025-02-30',
      ',,2025-01-01',
      'nobody,,2025-01-01',
      ',12,2025-01-01',
      `${'x'.repeat(1001)}@x.io,,2025-01-01`,
      'a@x.io,111',
      'a@x.io,1"11,2025-01-01',
      'b@x.io,"111,2025-01-01',
    ].join('\n');
    assert.deepEqual((await rows(csv)).rejected, [
      { line: 2, reason: 'missing_created_at' },
      { line: 3, reason: 'invalid_created_at' },
      { line: 4, reason: 'no_identifier' },
      { line: 5, reason: 'invalid_email' },
      { line: 6, reason: 'invalid_phone' },
      { line: 7, reason: 'too_long' },
      { line: 8, reason: 'malformed_line' },
      { line: 9, reason: 'malformed_line' },
      { line: 10, reason: 'malformed_line' },
    ]);
  });

  it('refuses a file without a createdAt column, an empty file, and more bad lines than allowed', async () => {
    await assert.rejects(
      read('email,phoneNumber\na@x.io,1\n'),
      (error) => error instanceof ImportFileError && /createdAt/.test(error.message),
    );
    await assert.rejects(read(''), /empty/);
    await assert.rejects(read('email,createdAt\nx,2025-01-01\ny,2025-01-01\n', 1), /more than 1 bad line/);
  });

  it('reads ISO 8601 times to the microsecond, with offsets; refuses what is not one', () => {
    assert.equal(formatMicros(parseTimestamp('2025-03-04T05:06:07.891234Z') as number), '2025-03-04T05:06:07.891234Z');
    assert.equal(formatMicros(parseTimestamp('2025-03-04 05:06-0130') as number), '2025-03-04T06:36:00.000000Z');
    assert.equal(formatMicros(parseTimestamp('1969-12-31T23:59:59.5Z') as number), '1969-12-31T23:59:59.500000Z');
    for (const bad of ['yesterday', '2025-13-01', '2025-02-29', '2025-01-01T24:00:00Z', '1800-01-01', '2025-01-01T00:00:00+19:00']) {
      assert.equal(parseTimestamp(bad), null, bad);
    }
  });
});
