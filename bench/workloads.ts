/**
 * The request streams of each workload, over a table seeded by `seed.ts`. Every generator hands
 * out fresh identifiers or fresh customers, so `extend` always extends and `merge` always merges.
 * Only merges use customers up (two each): an extension adds a fresh phone to any customer with
 * an email, so a fast machine's extend runs cannot exhaust the table.
 */
import { emailOf, indianPhoneAsTyped, phoneOf } from './seed.js';

export type WorkloadName = 'lookup' | 'new' | 'extend' | 'merge' | 'mixed' | 'details';
export type Body = { email?: string; phoneNumber?: string };

/** One request of a workload: POST /identify with a body, or a read-API GET. */
export type BenchRequest = { method: 'POST'; path: '/identify'; body: Body } | { method: 'GET'; path: string };

export interface WorkloadState {
  customers: number;
  /** Next never-merged customer for merge; merges walk down from the top. */
  cursor: number;
  /** Counter for unseen identifiers. */
  fresh: number;
  /** How lookups write a customer's phone: as seeded (default), or as a shopper in India types it (`indianPhoneAsTyped`). */
  phones?: 'seeded' | 'indian';
}

const random = (max: number) => 1 + Math.floor(Math.random() * max);

/** A customer that has both an email and a phone (neither email-only nor phone-only). */
function nextFullCustomer(state: WorkloadState): number {
  let customer = state.cursor--;
  while (customer % 10 === 0 || customer % 10 === 1) customer = state.cursor--;
  if (customer < 2) throw new Error('ran out of untouched customers: seed a larger table');
  return customer;
}

const generators: Record<Exclude<WorkloadName, 'mixed' | 'details'>, (state: WorkloadState) => Body> = {
  lookup(state) {
    const customer = random(state.customers);
    const email = emailOf(customer);
    const phone = phoneOf(customer);
    const body: Body = {};
    if (email) body.email = email;
    if (phone) body.phoneNumber = state.phones === 'indian' ? indianPhoneAsTyped(phone) : phone;
    return body;
  },
  new(state) {
    const n = state.fresh++;
    return { email: `n${n}@new.bench.io`, phoneNumber: `7000${n}` };
  },
  extend(state) {
    let customer = random(state.customers);
    while (customer % 10 === 1) customer = random(state.customers); // phone-only customers have no email
    return { email: emailOf(customer) as string, phoneNumber: `6000${state.fresh++}` };
  },
  merge(state) {
    const older = nextFullCustomer(state);
    const newer = nextFullCustomer(state);
    return { email: emailOf(newer) as string, phoneNumber: phoneOf(older) as string };
  },
};

/**
 * `details` asks the read API for the customers `lookup` identifies: the same rows found, plus
 * every column, the links and a bigger answer.
 */
export function nextRequest(workload: WorkloadName, state: WorkloadState): BenchRequest {
  if (workload !== 'details') return { method: 'POST', path: '/identify', body: nextBody(workload, state) };
  return { method: 'GET', path: `/customers/lookup?${new URLSearchParams(generators.lookup(state))}` };
}

export function nextBody(workload: Exclude<WorkloadName, 'details'>, state: WorkloadState): Body {
  if (workload !== 'mixed') return generators[workload](state);
  const roll = Math.random();
  if (roll < 0.8) return generators.lookup(state);
  if (roll < 0.9) return generators.new(state);
  if (roll < 0.97) return generators.extend(state);
  return generators.merge(state);
}
