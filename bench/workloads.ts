/**
 * The request streams of each workload, over a table seeded by `seed.ts`. Every generator hands
 * out fresh identifiers or fresh customers, so `extend` always extends and `merge` always merges.
 */
import { emailOf, phoneOf } from './seed.js';

export type WorkloadName = 'lookup' | 'new' | 'extend' | 'merge' | 'mixed';
export type Body = { email?: string; phoneNumber?: string };

export interface WorkloadState {
  customers: number;
  /** Next never-touched customer for extend and merge; they walk down from the top. */
  cursor: number;
  /** Counter for unseen identifiers. */
  fresh: number;
}

const random = (max: number) => 1 + Math.floor(Math.random() * max);

/** A customer that has both an email and a phone (neither email-only nor phone-only). */
function nextFullCustomer(state: WorkloadState): number {
  let customer = state.cursor--;
  while (customer % 10 === 0 || customer % 10 === 1) customer = state.cursor--;
  if (customer < 2) throw new Error('ran out of untouched customers: seed a larger table');
  return customer;
}

const generators: Record<Exclude<WorkloadName, 'mixed'>, (state: WorkloadState) => Body> = {
  lookup(state) {
    const customer = random(state.customers);
    const email = emailOf(customer);
    const phone = phoneOf(customer);
    const body: Body = {};
    if (email) body.email = email;
    if (phone) body.phoneNumber = phone;
    return body;
  },
  new(state) {
    const n = state.fresh++;
    return { email: `n${n}@new.bench.io`, phoneNumber: `7000${n}` };
  },
  extend(state) {
    const customer = nextFullCustomer(state);
    return { email: emailOf(customer) as string, phoneNumber: `6000${state.fresh++}` };
  },
  merge(state) {
    const older = nextFullCustomer(state);
    const newer = nextFullCustomer(state);
    return { email: emailOf(newer) as string, phoneNumber: phoneOf(older) as string };
  },
};

export function nextBody(workload: WorkloadName, state: WorkloadState): Body {
  if (workload !== 'mixed') return generators[workload](state);
  const roll = Math.random();
  if (roll < 0.8) return generators.lookup(state);
  if (roll < 0.9) return generators.new(state);
  if (roll < 0.97) return generators.extend(state);
  return generators.merge(state);
}
