/**
 * What holds a customer's rows together, as a graph: the one definition that regrouping (block,
 * unblock, quarantine) and the explain view share.
 *
 * Nodes are contacts and the links between them: an email or phone that rows share, and each
 * logged merge (a request whose email matched one customer and whose phone matched another joins
 * them without any row holding both). A contact is joined to the identifiers it holds and to the
 * merges that used one of its identifiers. A blocked value links nothing, and neither does a merge
 * made through a value that is blocked now: had it been blocked then, the request would not have
 * joined anything.
 *
 * Bipartite, so that a value shared by a thousand rows is a thousand edges, not half a million.
 */
import type { Blocklist } from './blocklist.js';
import type { LinkedContact } from './contact.js';
import type { IdentifierField } from './normalise.js';

/** A logged merge: the request's identifiers, which matched the customers it joined. */
export interface MergeRecord {
  eventId: number;
  email: string | null;
  phoneNumber: string | null;
}

export type LinkNode =
  { kind: 'contact'; id: number } | { kind: 'identifier'; field: IdentifierField; value: string } | { kind: 'merge'; eventId: number };

export interface LinkGraph {
  /** The nodes one step from `node`, each once. */
  neighbours(node: LinkNode): LinkNode[];
}

const keyOf = (node: LinkNode): string => {
  if (node.kind === 'contact') return `c:${node.id}`;
  if (node.kind === 'merge') return `m:${node.eventId}`;
  return `${node.field === 'email' ? 'e' : 'p'}:${node.value}`;
};

export function nodeKey(node: LinkNode): string {
  return keyOf(node);
}

export function buildLinkGraph(rows: readonly LinkedContact[], merges: readonly MergeRecord[], blocklist: Blocklist): LinkGraph {
  const adjacency = new Map<string, { node: LinkNode; next: Map<string, LinkNode> }>();
  const entry = (node: LinkNode) => {
    const key = keyOf(node);
    let found = adjacency.get(key);
    if (!found) adjacency.set(key, (found = { node, next: new Map() }));
    return found;
  };
  const join = (a: LinkNode, b: LinkNode) => {
    entry(a).next.set(keyOf(b), b);
    entry(b).next.set(keyOf(a), a);
  };
  const holders = new Map<string, LinkedContact[]>();
  for (const row of rows) {
    const contact: LinkNode = { kind: 'contact', id: row.id };
    entry(contact);
    for (const field of ['email', 'phoneNumber'] as const) {
      const value = row[field];
      if (value === null || blocklist.isBlocked(field, value)) continue;
      const identifier: LinkNode = { kind: 'identifier', field, value };
      join(contact, identifier);
      const key = keyOf(identifier);
      holders.set(key, [...(holders.get(key) ?? []), row]);
    }
  }
  for (const merge of merges) {
    if (merge.email === null || merge.phoneNumber === null) continue;
    if (blocklist.isBlocked('email', merge.email) || blocklist.isBlocked('phoneNumber', merge.phoneNumber)) continue;
    const node: LinkNode = { kind: 'merge', eventId: merge.eventId };
    const joined = [
      ...(holders.get(keyOf({ kind: 'identifier', field: 'email', value: merge.email })) ?? []),
      ...(holders.get(keyOf({ kind: 'identifier', field: 'phoneNumber', value: merge.phoneNumber })) ?? []),
    ];
    for (const row of joined) join(node, { kind: 'contact', id: row.id });
  }
  return {
    neighbours: (node) => [...(adjacency.get(keyOf(node))?.next.values() ?? [])],
  };
}

/** The contacts of `rows` in groups that the graph connects, each group in the order of `rows`. */
export function connectedContacts(rows: readonly LinkedContact[], graph: LinkGraph): number[][] {
  const seen = new Set<string>();
  const groupOf = new Map<number, number>();
  let groups = 0;
  for (const row of rows) {
    const start: LinkNode = { kind: 'contact', id: row.id };
    if (seen.has(keyOf(start))) continue;
    const group = groups++;
    const queue: LinkNode[] = [start];
    seen.add(keyOf(start));
    while (queue.length > 0) {
      const node = queue.pop() as LinkNode;
      if (node.kind === 'contact') groupOf.set(node.id, group);
      for (const next of graph.neighbours(node)) {
        const key = keyOf(next);
        if (!seen.has(key)) {
          seen.add(key);
          queue.push(next);
        }
      }
    }
  }
  const result: number[][] = Array.from({ length: groups }, () => []);
  for (const row of rows) result[groupOf.get(row.id) as number]?.push(row.id);
  return result;
}
