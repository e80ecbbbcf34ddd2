/**
 * The history use case over in-memory stores: how much of a customer the log accounts for
 * (`recorded`), keyset pages, and explain's checks and defaults. The SQL is the integration suite's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Blocklist } from '../../src/identity/blocklist.js';
import type { Contact } from '../../src/identity/contact.js';
import { createHistoryService, type ContactEvent, type HistoryStore, type LoggedMerge } from '../../src/identity/historyService.js';
import type { CustomerStore } from '../../src/identity/store.js';
import { contact } from '../support/contacts.js';

const AT = new Date(Date.UTC(2026, 0, 2));

function event(id: number, type: string, customerIds: number[], contactIds: number[], extra: Partial<ContactEvent> = {}): ContactEvent {
  return { id, at: AT, requestId: `r-${id}`, type, customerIds, contactIds, email: null, phoneNumber: null, detail: {}, ...extra };
}

/** The table's live rows, and the events of the customer (the store's SQL decides which: here, all). */
function service(rows: Contact[], events: ContactEvent[], blocklist?: Blocklist) {
  const customers: CustomerStore = {
    findCustomerRows: async () => rows,
    findCustomerRowsOfContact: async (id) => (rows.some((row) => row.id === id) ? rows : []),
  };
  const history: HistoryStore = {
    events: async (_ids, { after, limit }) => events.filter((e) => e.id > after).slice(0, limit),
    coverage: async (ids) => ({
      events: events.length,
      recordedContactIds: [
        ...new Set(
          events
            .filter((e) => e.type === 'customer.created' || e.type === 'customer.updated')
            .flatMap((e) => e.contactIds.filter((id) => ids.includes(id))),
        ),
      ],
    }),
    merges: async () =>
      events
        .filter((e) => e.type === 'customer.merged')
        .map((e): LoggedMerge => ({ eventId: e.id, at: e.at, requestId: e.requestId, email: e.email, phoneNumber: e.phoneNumber })),
  };
  return createHistoryService(customers, history, blocklist ? { blocklist: async () => blocklist } : {});
}

const LORRAINE = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '111', 1)];
const LOGGED = [event(1, 'customer.created', [1], [1]), event(2, 'customer.updated', [1], [2], { detail: { new: ['email'] } })];

async function historyOf(rows: Contact[], events: ContactEvent[], after = 0, limit = 100) {
  const result = await service(rows, events).history(2, { after, limit });
  assert.equal(result.kind, 'found');
  return result.kind === 'found' ? result.value : assert.fail();
}

describe('history', () => {
  it('every contact created by a logged request: recorded, no note, the events oldest first', async () => {
    const history = await historyOf(LORRAINE, LOGGED);
    assert.equal(history.primaryContactId, 1);
    assert.equal(history.recorded, true);
    assert.equal(history.note, null);
    assert.deepEqual(history.contacts, { total: 2, recorded: 2 });
    assert.deepEqual(
      history.events.map((e) => e.type),
      ['customer.created', 'customer.updated'],
    );
    assert.deepEqual(history.page, { after: 0, limit: 100, total: 2, nextAfter: null });
  });

  it('no events at all (the table was written before the log): recorded false, a sentence saying so, no events made up', async () => {
    const history = await historyOf(LORRAINE, []);
    assert.equal(history.recorded, false);
    assert.deepEqual(history.events, []);
    assert.match(history.note ?? '', /before the event log existed/);
    assert.deepEqual(history.contacts, { total: 2, recorded: 0 });
  });

  it('events, but a contact created without one: partial, and how many', async () => {
    const rows = [...LORRAINE, contact(3, 'c@x.io', '111', 1)];
    const history = await historyOf(rows, LOGGED);
    assert.equal(history.recorded, 'partial');
    assert.deepEqual(history.contacts, { total: 3, recorded: 2 });
    assert.match(history.note ?? '', /^The history is partial: 1 of 3 contacts/);
  });

  it('pages by event id: nextAfter while a page is full, null after the last', async () => {
    const events = [...LOGGED, event(5, 'customer.relinked', [1], [2])];
    const first = await historyOf(LORRAINE, events, 0, 2);
    assert.deepEqual([first.events.map((e) => e.id), first.page.nextAfter], [[1, 2], 2]);
    const second = await historyOf(LORRAINE, events, 2, 2);
    assert.deepEqual([second.events.map((e) => e.id), second.page.nextAfter, second.page.total], [[5], null, 3]);
  });

  it('a contact nobody has: not found; broken links: which', async () => {
    assert.deepEqual(await service(LORRAINE, LOGGED).history(9, { after: 0, limit: 10 }), { kind: 'notFound' });
    const chain = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '111', 1), contact(3, 'b@x.io', null, 2)];
    assert.deepEqual(await service(chain, []).history(3, { after: 0, limit: 10 }), { kind: 'brokenLinks', contactIds: [2, 3] });
  });
});

describe('explain', () => {
  it('from the primary when no start is given', async () => {
    const result = await service(LORRAINE, LOGGED).explain(2, null, 2);
    assert.deepEqual(result, {
      kind: 'found',
      value: {
        primaryContactId: 1,
        from: 1,
        to: 2,
        kind: 'path',
        steps: [
          { kind: 'contact', id: 1 },
          { kind: 'identifier', field: 'phoneNumber', value: '111' },
          { kind: 'contact', id: 2 },
        ],
        cause: null,
        message: null,
      },
    });
  });

  it('a merge step carries its request, time and identifiers', async () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    const events = [event(7, 'customer.merged', [1, 2], [2], { email: 'a@x.io', phoneNumber: '222' })];
    const result = await service(rows, events).explain(1, 1, 2);
    assert.equal(result.kind, 'found');
    if (result.kind !== 'found') return;
    assert.deepEqual(result.value.steps[1], { kind: 'merge', eventId: 7, at: AT, requestId: 'r-7', email: 'a@x.io', phoneNumber: '222' });
  });

  it('no recorded link: unrecorded with a sentence, no steps', async () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    const result = await service(rows, []).explain(1, 1, 2);
    assert.equal(result.kind, 'found');
    if (result.kind !== 'found') return;
    assert.deepEqual([result.value.kind, result.value.steps, result.value.cause], ['unrecorded', [], 'noRecord']);
    assert.match(result.value.message ?? '', /no recorded link joins them/);
  });

  it('uses the block list it is given', async () => {
    const blocklist = new Blocklist(3, [
      { id: 1, field: 'phoneNumber', match: 'exact', value: '111', reason: 'test', addedBy: 'test', createdAt: AT },
    ]);
    const result = await service(LORRAINE, LOGGED, blocklist).explain(1, 1, 2);
    assert.equal(result.kind === 'found' && result.value.cause, 'blocked');
  });

  it('a start or an end that is not a contact of this customer: which', async () => {
    assert.deepEqual(await service(LORRAINE, LOGGED).explain(1, 5, 2), { kind: 'notInCustomer', primaryContactId: 1, contactIds: [5] });
    assert.deepEqual(await service(LORRAINE, LOGGED).explain(1, 7, 8), { kind: 'notInCustomer', primaryContactId: 1, contactIds: [7, 8] });
  });
});
