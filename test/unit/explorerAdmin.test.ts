/** The explorer's admin actions in words (web/src/adminText.ts): confirmations, outcomes, refusals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  customerAfterErasure,
  describeStillLink,
  eraseConfirmation,
  erasedMessage,
  failureMessage,
  unmergeConfirmation,
  unmergedMessage,
} from '../../web/src/adminText.js';
import type { ContactEvent, Erasure, Unmerged } from '../../web/src/types.js';

const SPLIT: Erasure = { erasedContactIds: [2], customers: [[1], [3]], splits: [{ ownerId: 1, into: [1, 3] }], blockRulesRemoved: 0 };

describe('explorer admin text', () => {
  it('says what an erasure forgets, that the customer may split, and that it cannot be undone', () => {
    const asked = eraseConfirmation({ id: 2, email: 'marty@hillvalley.edu', phoneNumber: '555222' });
    assert.equal(asked.title, 'Erase contact #2?');
    assert.equal(asked.confirmLabel, 'Erase contact #2');
    assert.deepEqual(asked.paragraphs, [
      'Its email marty@hillvalley.edu and phone number 555222 are forgotten everywhere: in every contact that holds them, in the history ' +
        'and in exact block rules. A contact left with neither email nor phone number is erased too.',
      'The customer may split: contacts that only this contact’s email or phone number held together become separate customers.',
      'This cannot be undone.',
    ]);
    assert.match(
      eraseConfirmation({ id: 4, email: null, phoneNumber: '717171' }).paragraphs[0] ?? '',
      /^Its phone number 717171 is forgotten everywhere: in every contact that holds it,/,
    );
    assert.equal(eraseConfirmation({ id: 4, email: null, phoneNumber: null }).paragraphs[0], 'It holds no email or phone number any more.');
  });

  it('says which contacts were erased, which customers are left and what split', () => {
    assert.deepEqual(erasedMessage(SPLIT), {
      title: 'Contact 2 erased',
      message: 'Contact 2 erased; customers left: 1, 3. Customer 1 split into customers 1 and 3.',
      details: [],
    });
    assert.equal(
      erasedMessage({ erasedContactIds: [2, 5], customers: [[1, 4]], splits: [], blockRulesRemoved: 1 }).message,
      'Contacts 2, 5 erased; customer left: 1. 1 exact block rule for an erased value removed.',
    );
    assert.equal(
      erasedMessage({ erasedContactIds: [7], customers: [], splits: [], blockRulesRemoved: 0 }).message,
      'Contact 7 erased; no customer is left.',
    );
  });

  it('shows, after an erasure, the customer the shown primary is in, else the first one left, else none', () => {
    assert.equal(customerAfterErasure(SPLIT, 1), 1);
    assert.equal(customerAfterErasure({ ...SPLIT, customers: [[3], [4, 6]] }, 6), 4);
    assert.equal(customerAfterErasure({ ...SPLIT, erasedContactIds: [1], customers: [[3], [4]] }, 1), 3);
    assert.equal(customerAfterErasure({ ...SPLIT, customers: [] }, 1), null);
  });

  it('asks before an unmerge with the merge in words, and says what it did', () => {
    const merge: ContactEvent = {
      id: 6,
      at: '2026-11-25T17:02:56.734Z',
      requestId: 'order-6',
      type: 'customer.merged',
      customerIds: [1, 3],
      contactIds: [3, 4],
      email: 'lorraine@hillvalley.edu',
      phoneNumber: '919191',
      detail: { survivor: 1, absorbed: [3] },
    };
    const asked = unmergeConfirmation(merge);
    assert.equal(asked.title, 'Undo merge 6?');
    assert.equal(asked.confirmLabel, 'Unmerge');
    assert.equal(
      asked.paragraphs[0],
      'Customer #3 joined customer #1: a request carried lorraine@hillvalley.edu and 919191, which belonged to both. Re-linked: #3, #4.',
    );
    const done: Unmerged = {
      mergeEventId: 6,
      into: [1, 3],
      separation: { id: 2, contactIds: [1, 3], mergeEventId: 6, addedBy: 'admin:key1', createdAt: '2026-11-25T17:03:00.000Z' },
      splits: [],
    };
    assert.deepEqual(unmergedMessage(done), {
      title: 'Merge 6 undone',
      message: 'Merge 6 undone: customers 1 and 3 are apart again. Separation 2 keeps requests from joining them again.',
      details: [],
    });
  });

  it('says why the service refused: the admin key, admin disabled, what still links two sides, or its own message', () => {
    assert.deepEqual(failureMessage('erasure', { status: 401, code: 'UNAUTHORIZED', message: 'The API key is not valid.' }), {
      title: 'Admin key not accepted',
      message: 'The service did not accept the admin key (The API key is not valid.) Type another with “Change admin key…”, or forget it.',
      details: [],
    });
    const disabled = 'The admin API is disabled: set ADMIN_API_KEYS (or ADMIN_API_OPEN=true on a private network).';
    assert.deepEqual(failureMessage('unmerge', { status: 403, code: 'ADMIN_DISABLED', message: disabled }), {
      title: 'Admin actions are disabled',
      message: disabled,
      details: [],
    });
    const stillLinked = 'Contacts 7 and 9 are still one customer without that merge: …; nothing was written.';
    assert.deepEqual(
      failureMessage('unmerge', {
        status: 409,
        code: 'STILL_LINKED',
        message: stillLinked,
        links: [
          { field: 'email', contactIds: [7, 8] },
          { field: 'phoneNumber', contactIds: [8, 9] },
          { field: 'merge', contactIds: [9, 10], mergeEventId: 12 },
        ],
      }),
      {
        title: 'Still linked: nothing was unmerged',
        message: `${stillLinked} What still joins them:`,
        details: ['email of #7 and #8', 'phone number of #8 and #9', 'merge 12 (#9 and #10)'],
      },
    );
    assert.equal(describeStillLink({ field: 'merge', contactIds: [1, 2] }), 'merge ? (#1 and #2)');
    assert.deepEqual(failureMessage('erasure', { status: 404, code: 'NOT_FOUND', message: 'No live contact has this id.' }), {
      title: 'The erasure failed',
      message: 'No live contact has this id.',
      details: [],
    });
    assert.equal(
      failureMessage('unmerge', { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable; try again shortly.' })
        .message,
      'The database is not reachable; try again shortly. (status 503, DATABASE_UNAVAILABLE)',
    );
    assert.equal(
      failureMessage('erasure', { status: null, code: null, message: 'The service could not be reached.' }).message,
      'The service could not be reached.',
    );
  });
});
