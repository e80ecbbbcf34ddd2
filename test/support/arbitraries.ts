/** fast-check generators: requests over a small pool, so that sequences collide and merge often. */
import fc from 'fast-check';
import type { Identifiers } from '../../src/identity/contact.js';

const EMAILS = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io', 'f@x.io'];
const PHONES = ['111', '222', '333', '444', '555', '666'];

export const identifiers: fc.Arbitrary<Identifiers> = fc
  .record({ email: fc.option(fc.constantFrom(...EMAILS)), phoneNumber: fc.option(fc.constantFrom(...PHONES)) })
  .filter((request) => request.email !== null || request.phoneNumber !== null);

export function requestSequence(maxLength = 25): fc.Arbitrary<Identifiers[]> {
  return fc.array(identifiers, { minLength: 1, maxLength });
}
