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
import type { CustomerDetails, PathStep } from './types.js';

export type IdentifierKind = 'email' | 'phone';

export type GraphNode =
  { id: string; kind: 'contact'; label: string; contactId: number; primary: boolean } | { id: string; kind: IdentifierKind; label: string };

export interface GraphEdge {
  id: string;
  /** `explained`: a logged merge on an explanation's path, drawn only while the path is shown. */
  kind: IdentifierKind | 'merged' | 'explained';
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

/** An explanation's path on the graph: the nodes and edges to emphasise, and the merges to draw for it. */
export interface GraphPath {
  nodeIds: string[];
  edgeIds: string[];
  /** A merge joins two contacts that may have no edge between them: drawn while the path is shown. */
  extraEdges: GraphEdge[];
}

/**
 * `steps` alternate contact, link, contact (explain's answer). A shared identifier is its node and
 * the two contact-identifier edges identityGraph drew; a merge is an edge of its own.
 */
export function pathOnGraph(steps: readonly PathStep[]): GraphPath {
  const path: GraphPath = { nodeIds: [], edgeIds: [], extraEdges: [] };
  steps.forEach((step, index) => {
    if (step.kind === 'contact') {
      path.nodeIds.push(contactNodeId(step.id));
      return;
    }
    const before = steps[index - 1];
    const after = steps[index + 1];
    if (before?.kind !== 'contact' || after?.kind !== 'contact') return;
    const [source, target] = [contactNodeId(before.id), contactNodeId(after.id)];
    if (step.kind === 'identifier') {
      const id = identifierNodeId(step.field === 'email' ? 'email' : 'phone', step.value);
      path.nodeIds.push(id);
      path.edgeIds.push(`${source}->${id}`, `${target}->${id}`);
      return;
    }
    const edge: GraphEdge = {
      id: `explained:${step.eventId}:${source}:${target}`,
      kind: 'explained',
      source,
      target,
      label: `merge, event ${step.eventId}`,
    };
    path.extraEdges.push(edge);
    path.edgeIds.push(edge.id);
  });
  return path;
}
