/**
 * Which libphonenumber-js metadata src/identity/phoneNumbers.ts should use: `min` (the default) or
 * `max` (`mobile` for reference). Not part of `npm run bench`; run it alone:
 *
 *   npx tsx bench/phoneParse.ts
 *
 * Prints, per metadata set: the JSON's size (raw and gzipped); the import's time and heap in a fresh
 * plain `node` (median of 7 processes; no tsx loader in the way); the time of one parse + validate
 * of ten typical inputs, with region IN and US (median of 5 rounds); and how many of 20 000 random
 * 10-digit national numbers (a fixed seed) each set calls valid — what `isValid()` is worth with it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import parseMax from 'libphonenumber-js/max';
import parseMin from 'libphonenumber-js/min';
import parseMobile from 'libphonenumber-js/mobile';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js';

type Parse = (text: string, options: { defaultCountry: CountryCode; extract: boolean }) => PhoneNumber | undefined;
const SETS: Record<'min' | 'max' | 'mobile', Parse> = { min: parseMin, max: parseMax, mobile: parseMobile };

/** What shoppers type: national with and without trunk prefix, +, 00, separators, an extension. */
const INPUTS: Record<'IN' | 'US', string[]> = {
  IN: [
    '98765 43210',
    '098765 43210',
    '+91 98765 43210',
    '0091-98765-43210',
    '919876543210',
    '011 2345 6789',
    '(0)80 2345 6789',
    '98765 43210 ext. 12',
    '123456',
    '+44 7400 123456',
  ],
  US: [
    '(201) 555-0123',
    '201-555-0123',
    '201.555.0123',
    '1 201 555 0123',
    '+1 (201) 555-0123',
    '011 44 7400 123456',
    '(212) 555-1234 x12',
    '555-0100',
    '1111111111',
    '+91 98765 43210',
  ],
};

const require = createRequire(import.meta.url);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

function metadataSize(set: string) {
  const bytes = readFileSync(require.resolve(`libphonenumber-js/metadata.${set}.json`));
  return { kB: Math.round(bytes.length / 1000), gzipKB: Math.round(gzipSync(bytes).length / 1000) };
}

/** In a fresh plain node, so nothing is cached and no TypeScript loader hooks the import. */
function importCost(set: string) {
  const script = `
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    await import('libphonenumber-js/${set}');
    const ms = performance.now() - t0;
    globalThis.gc();
    console.log(JSON.stringify({ ms, heapKB: (process.memoryUsage().heapUsed - heap0) / 1024 }));`;
  const runs = Array.from({ length: 7 }, () => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(child.stderr);
    return JSON.parse(child.stdout) as { ms: number; heapKB: number };
  });
  return { importMs: +median(runs.map((run) => run.ms)).toFixed(1), heapKB: Math.round(median(runs.map((run) => run.heapKB))) };
}

/** Microseconds per parse + isValid(), the inputs taken in turn. */
function perCall(parse: Parse, region: 'IN' | 'US') {
  const inputs = INPUTS[region];
  let valid = 0;
  const round = (calls: number) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      if (parse(inputs[i % inputs.length] ?? '', { defaultCountry: region, extract: false })?.isValid()) valid++;
    }
    return ((performance.now() - t0) * 1000) / calls;
  };
  round(20_000); // warm up
  const us = median(Array.from({ length: 5 }, () => round(50_000)));
  return { us: +us.toFixed(2), valid };
}

function validAmongRandom(parse: Parse, region: CountryCode, count = 20_000) {
  let seed = 1;
  const digit = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * 10);
  };
  let valid = 0;
  for (let i = 0; i < count; i++) {
    const national = Array.from({ length: 10 }, digit).join('');
    if (parse(national, { defaultCountry: region, extract: false })?.isValid()) valid++;
  }
  return valid;
}

const rows = Object.entries(SETS).map(([set, parse]) => ({
  set,
  ...metadataSize(set),
  ...importCost(set),
  usPerCallIN: perCall(parse, 'IN').us,
  usPerCallUS: perCall(parse, 'US').us,
  ...Object.fromEntries((['IN', 'US', 'GB', 'DE'] as const).map((region) => [`valid${region}of20k`, validAmongRandom(parse, region)])),
}));
console.table(rows);
