/** The explorer's identity graph as data (web/src/identityGraph.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeGraph, identityGraph } from '../../web/src/identityGraph.js';
import type { Contact, CustomerDetails } from '../../web/src/types.js';

const AT = '2023-04-01T00:00:00.000Z';

function contact(id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = null): Contact {
  return { id, email, phoneNumber, linkPrecedence: linkedId === null ? 'primary' : 'secondary', linkedId, createdAt: AT, updatedAt: AT };
}

/** #1 and #2 share a phone; #3 was merged in and shares nothing; #4 has no email. */
const CUSTOMER: CustomerDetails = {
  id: 1,
  primaryContactId: 1,
  emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu', 'george@hillvalley.edu'],
  phoneNumbers: ['123456', '919191'],
  secondaryContactIds: [2, 3, 4],
  contacts: [
    contact(1, 'lorraine@hillvalley.edu', '123456'),
    contact(2, 'mcfly@hillvalley.edu', '123456', 1),
    contact(3, 'george@hillvalley.edu', '919191', 1),
    contact(4, null, '919191', 1),
  ],
  links: [
    { contactId: 2, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '123456', contactId: 1 }] },
    { contactId: 3, linkedId: 1, reason: 'merged', shared: [] },
    { contactId: 4, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '919191', contactId: 3 }] },
  ],
  page: { offset: 0, limit: 1000, total: 4, nextOffset: null },
};

describe('explorer identity graph', () => {
  const graph = identityGraph(CUSTOMER);

  it('has a node per contact, the primary marked, and one per distinct email and phone number', () => {
    assert.deepEqual(
      graph.nodes.map((node) => [node.kind, node.label]),
      [
        ['contact', '#1'],
        ['contact', '#2'],
        ['contact', '#3'],
        ['contact', '#4'],
        ['email', 'lorraine@hillvalley.edu'],
        ['phone', '123456'],
        ['email', 'mcfly@hillvalley.edu'],
        ['email', 'george@hillvalley.edu'],
        ['phone', '919191'],
      ],
    );
    assert.deepEqual(
      graph.nodes.filter((node) => node.kind === 'contact' && node.primary).map((node) => node.label),
      ['#1'],
    );
    assert.equal(new Set(graph.nodes.map((node) => node.id)).size, graph.nodes.length);
  });

  it('joins each contact to the identifiers it carries, and a merged contact to the contact it was merged into', () => {
    const edges = graph.edges.map((edge) => `${edge.source} ${edge.label} ${edge.target}`);
    assert.deepEqual(edges, [
      'contact:1 email email:lorraine@hillvalley.edu',
      'contact:1 phone phone:123456',
      'contact:2 email email:mcfly@hillvalley.edu',
      'contact:2 phone phone:123456',
      'contact:3 email email:george@hillvalley.edu',
      'contact:3 phone phone:919191',
      'contact:4 phone phone:919191',
      'contact:3 merged contact:1',
    ]);
    assert.equal(new Set(graph.edges.map((edge) => edge.id)).size, graph.edges.length);
  });

  it('keeps an email and a phone number with the same text apart', () => {
    const twin = identityGraph({
      ...CUSTOMER,
      contacts: [contact(1, '123456@x.io', '123456'), contact(2, null, '123456@x.io', 1)],
      links: [],
    });
    assert.equal(twin.nodes.filter((node) => node.kind !== 'contact').length, 3);
  });

  it('is captioned with its counts', () => {
    assert.equal(
      describeGraph({ contacts: 4, identifiers: 5, identifierLinks: 7, merges: 1 }),
      '9 nodes (4 contacts, 5 identifiers), 8 edges (7 identifier links, 1 merge)',
    );
    assert.equal(
      describeGraph({ contacts: 1, identifiers: 1, identifierLinks: 1, merges: 0 }),
      '2 nodes (1 contact, 1 identifier), 1 edge (1 identifier link, 0 merges)',
    );
  });
});
