/** The explorer's history and explain in words (web/src/historyText.ts) and on the graph (pathOnGraph). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeEvent, describeExplanation } from '../../web/src/historyText.js';
import { pathOnGraph } from '../../web/src/identityGraph.js';
import type { ContactEvent, Explanation } from '../../web/src/types.js';

const AT = '2026-11-25T17:02:56.734Z';

function event(type: string, customerIds: number[], contactIds: number[], extra: Partial<ContactEvent> = {}): ContactEvent {
  return { id: 1, at: AT, requestId: 'order-1', type, customerIds, contactIds, email: null, phoneNumber: null, detail: {}, ...extra };
}

describe('explorer history text', () => {
  it('says what each kind of event did, naming the contacts and customers', () => {
    const said = (e: ContactEvent) => describeEvent(e);
    assert.deepEqual(said(event('customer.created', [1], [1])), {
      title: 'New customer',
      sentence: 'Contact #1 was created: a customer of its own.',
    });
    assert.deepEqual(said(event('customer.updated', [1], [2], { detail: { new: ['email', 'phoneNumber'] } })), {
      title: 'New contact',
      sentence: 'Contact #2 was added to customer #1, bringing a new email and phone number.',
    });
    assert.deepEqual(
      said(
        event('customer.merged', [1, 2], [2, 3], {
          email: 'george@hillvalley.edu',
          phoneNumber: '717171',
          detail: { survivor: 1, absorbed: [2] },
        }),
      ),
      {
        title: 'Customers merged',
        sentence:
          'Customer #2 joined customer #1: a request carried george@hillvalley.edu and 717171, which belonged to both. Re-linked: #2, #3.',
      },
    );
    assert.equal(
      said(event('customer.relinked', [2, 1], [], { detail: { promoted: true } })).sentence,
      'Contact #2 became the primary in place of deleted #1.',
    );
    assert.equal(
      said(event('customer.split', [1, 3], [3], { detail: { into: [1, 3], cause: 'identifier.blocked' } })).sentence,
      'Customer #1 was split into #1, #3 (identifier.blocked).',
    );
    assert.deepEqual(said(event('contact.erased', [1], [2], { detail: { contactIds: [2] } })), {
      title: 'Contact erased',
      sentence: 'Contact #2 was erased: its email and phone number were forgotten everywhere.',
    });
    assert.deepEqual(said(event('customer.unmerged', [4, 5], [], { detail: { mergeEventId: 7, separationId: 1, into: [4, 5] } })), {
      title: 'Merge undone',
      sentence: 'Merge 7 was undone: customers #4, #5 are apart again, and requests may not join them (separation 1).',
    });
    assert.deepEqual(said(event('request.separated', [4, 5], [], { detail: { separationId: 1, ignored: 'phoneNumber' } })), {
      title: 'Request kept apart',
      sentence:
        'A request carried identifiers of separated customers #4, #5: it was answered with customer #4, and its phone number was not linked (separation 1).',
    });
    assert.deepEqual(said(event('separation.removed', [4, 5], [4, 5], { detail: { separationId: 1, mergeEventId: 7 } })), {
      title: 'Separation removed',
      sentence: 'Separation 1 between #4, #5 was removed: a request carrying identifiers of both may join them again.',
    });
    assert.deepEqual(said(event('contact.erased', [1], [2, 5], { detail: { contactIds: [2, 5] } })), {
      title: 'Contacts erased',
      sentence: 'Contacts #2, #5 were erased: their emails and phone numbers were forgotten everywhere.',
    });
    assert.deepEqual(said(event('identifier.blocked', [1], [], { detail: { ruleId: 4, field: 'phoneNumber', match: 'exact' } })), {
      title: 'Identifier blocked',
      sentence: 'A phone number was blocked (rule 4, exact match). Customers concerned: #1.',
    });
    assert.equal(
      said(event('identifier.quarantined', [1], [], { detail: { ruleId: 5, field: 'email', match: 'exact' } })).title,
      'Identifier quarantined',
    );
  });

  it('shows a type it does not know by its name, with the ids it names', () => {
    assert.deepEqual(describeEvent(event('customer.renamed', [1], [])), {
      title: 'customer.renamed',
      sentence: 'Customers #1; contacts none.',
    });
  });
});

const MERGE_PATH: Explanation = {
  primaryContactId: 1,
  from: 1,
  to: 3,
  kind: 'path',
  steps: [
    { kind: 'contact', id: 1 },
    { kind: 'merge', eventId: 4, at: AT, requestId: 'order-4', email: 'george@hillvalley.edu', phoneNumber: '717171' },
    { kind: 'contact', id: 2 },
    { kind: 'identifier', field: 'phoneNumber', value: '717171' },
    { kind: 'contact', id: 3 },
  ],
  cause: null,
  message: null,
};

describe('explorer explain', () => {
  it('says each link of the chain, in order', () => {
    assert.deepEqual(describeExplanation(MERGE_PATH), {
      summary: '#3 belongs with #1 through 2 links:',
      links: [
        '#1 and #2 were joined by a merge: request order-4 at 2026-11-25 17:02:56 UTC carried george@hillvalley.edu and 717171 (event 4).',
        '#2 and #3 share phone number 717171.',
      ],
    });
  });

  it('gives the API’s sentence for an unrecorded pair, and no links', () => {
    const unrecorded: Explanation = {
      ...MERGE_PATH,
      kind: 'unrecorded',
      steps: [],
      cause: 'noRecord',
      message: 'No recorded link joins them.',
    };
    assert.deepEqual(describeExplanation(unrecorded), { summary: 'No recorded link joins them.', links: [] });
    assert.deepEqual(describeExplanation({ ...MERGE_PATH, to: 1, steps: [{ kind: 'contact', id: 1 }] }).links, []);
  });

  it('puts the path on the graph: its contacts and identifiers, the identifier edges identityGraph drew, and an edge for each merge', () => {
    assert.deepEqual(pathOnGraph(MERGE_PATH.steps), {
      nodeIds: ['contact:1', 'contact:2', 'phone:717171', 'contact:3'],
      edgeIds: ['explained:4:contact:1:contact:2', 'contact:2->phone:717171', 'contact:3->phone:717171'],
      extraEdges: [
        { id: 'explained:4:contact:1:contact:2', kind: 'explained', source: 'contact:1', target: 'contact:2', label: 'merge, event 4' },
      ],
    });
  });
});
