/**
 * The identity graph of a customer, as data: what the picture draws and what its caption counts.
 * Pure (no DOM, no cytoscape), so it is unit-tested.
 *
 * Nodes: every contact, and every distinct email and phone number. Edges: one from each contact to
 * each identifier it carries, and one per `merged` link from the contact to the contact it was
 * merged into — a merged contact shares no identifier with older ones, so that link is its only
 * tie. A `shared` link needs no edge of its own: the shared identifier node already joins the two.
 */
import { count } from './format.js';
import type { CustomerDetails } from './types.js';

export type IdentifierKind = 'email' | 'phone';

export type GraphNode =
  { id: string; kind: 'contact'; label: string; contactId: number; primary: boolean } | { id: string; kind: IdentifierKind; label: string };

export interface GraphEdge {
  id: string;
  kind: IdentifierKind | 'merged';
  source: string;
  target: string;
  label: string;
}

export interface IdentityGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function contactNodeId(contactId: number): string {
  return `contact:${contactId}`;
}

function identifierNodeId(kind: IdentifierKind, value: string): string {
  return `${kind}:${value}`;
}

export function identityGraph(customer: CustomerDetails): IdentityGraph {
  const contactNodes: GraphNode[] = customer.contacts.map((contact) => ({
    id: contactNodeId(contact.id),
    kind: 'contact',
    label: `#${contact.id}`,
    contactId: contact.id,
    primary: contact.id === customer.primaryContactId,
  }));
  const identifierNodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  for (const contact of customer.contacts) {
    const carried: [IdentifierKind, string | null][] = [
      ['email', contact.email],
      ['phone', contact.phoneNumber],
    ];
    for (const [kind, value] of carried) {
      if (value === null) continue;
      const id = identifierNodeId(kind, value);
      if (!identifierNodes.has(id)) identifierNodes.set(id, { id, kind, label: value });
      edges.push({ id: `${contactNodeId(contact.id)}->${id}`, kind, source: contactNodeId(contact.id), target: id, label: kind });
    }
  }
  for (const link of customer.links) {
    if (link.reason !== 'merged') continue;
    const source = contactNodeId(link.contactId);
    const target = contactNodeId(link.linkedId);
    edges.push({ id: `${source}->${target}`, kind: 'merged', source, target, label: 'merged' });
  }
  return { nodes: [...contactNodes, ...identifierNodes.values()], edges };
}

export interface GraphCounts {
  contacts: number;
  identifiers: number;
  identifierLinks: number;
  merges: number;
}

/** The caption under the picture: `11 nodes (4 contacts, 7 identifiers), 10 edges (8 identifier links, 2 merges)`. */
export function describeGraph({ contacts, identifiers, identifierLinks, merges }: GraphCounts): string {
  return (
    `${count(contacts + identifiers, 'node')} (${count(contacts, 'contact')}, ${count(identifiers, 'identifier')}), ` +
    `${count(identifierLinks + merges, 'edge')} (${count(identifierLinks, 'identifier link')}, ${count(merges, 'merge')})`
  );
}
