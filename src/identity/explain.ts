/**
 * Why two contacts are one customer: the shortest chain of recorded links between them, read off
 * the link graph (`linkGraph.ts`, the same definition the regroup uses), so what is shown as a
 * reason is exactly what would keep the rows together.
 *
 * A chain alternates contact, link, contact, …: a link is an email or phone number both
 * contacts hold, or a logged merge (a request whose email matched one of them and whose phone the
 * other). Breadth-first search finds a shortest one; ties go to the earliest neighbour, in a fixed
 * order (a node's contacts in row order, its emails, then phones, by value, then merges by event),
 * so the same rows always give the same chain.
 *
 * Rows can be one customer with no recorded link between them: the table was written before the
 * event log existed (or by another system), or their link was a value that is blocked now and the
 * regroup kept them together. Then no chain is invented: the answer says it is unrecorded, and why
 * when it can tell.
 */
import { Blocklist } from './blocklist.js';
import type { LinkedContact } from './contact.js';
import { buildLinkGraph, nodeKey, type LinkGraph, type LinkNode, type MergeRecord } from './linkGraph.js';

export type ExplainStep = LinkNode;

export type Explanation =
  /**
   * `steps` runs from `from` to `to`: contact, link, contact, … (just `from` when they are one
   * contact). Every link is an unblocked shared value or a logged merge.
   */
  | { kind: 'path'; steps: ExplainStep[] }
  /**
   * Both are the customer's, but no recorded link joins them. `blocked`: only values blocked now
   * (or merges made through them) would have; `noRecord`: nothing recorded would (rows written or
   * merged before the event log existed, or by another writer).
   */
  | { kind: 'unrecorded'; cause: 'blocked' | 'noRecord' };

export interface ExplainInput {
  /** The customer's live rows, in row order (createdAt, id). */
  rows: readonly LinkedContact[];
  /** The logged merges of the customer's rows. */
  merges: readonly MergeRecord[];
  blocklist: Blocklist;
  from: number;
  to: number;
}

export function explain({ rows, merges, blocklist, from, to }: ExplainInput): Explanation {
  for (const id of [from, to]) {
    if (!rows.some((row) => row.id === id)) throw new RangeError(`contact ${id} is not one of the customer's rows`);
  }
  const order = neighbourOrder(rows);
  const steps = shortestPath(buildLinkGraph(rows, merges, blocklist), from, to, order);
  if (steps !== null) return { kind: 'path', steps };
  // Only to say why: a path through blocked values is never shown as a reason.
  const unblocked = shortestPath(buildLinkGraph(rows, merges, Blocklist.empty()), from, to, order);
  return { kind: 'unrecorded', cause: unblocked === null ? 'noRecord' : 'blocked' };
}

type Comparator = (a: LinkNode, b: LinkNode) => number;

/** Contacts in row order, then emails, phones (by value), then merges (by event id). */
function neighbourOrder(rows: readonly LinkedContact[]): Comparator {
  const position = new Map(rows.map((row, index) => [row.id, index]));
  const rank = (node: LinkNode): [number, number | string] => {
    if (node.kind === 'contact') return [0, position.get(node.id) ?? Number.MAX_SAFE_INTEGER];
    if (node.kind === 'identifier') return [node.field === 'email' ? 1 : 2, node.value];
    return [3, node.eventId];
  };
  return (a, b) => {
    const [kindA, keyA] = rank(a);
    const [kindB, keyB] = rank(b);
    if (kindA !== kindB) return kindA - kindB;
    if (keyA === keyB) return 0;
    return keyA < keyB ? -1 : 1;
  };
}

function shortestPath(graph: LinkGraph, from: number, to: number, order: Comparator): LinkNode[] | null {
  const start: LinkNode = { kind: 'contact', id: from };
  const goal = nodeKey({ kind: 'contact', id: to });
  // Each node reached, with the node it was first reached from.
  const cameFrom = new Map<string, { node: LinkNode; previous: string | null }>([[nodeKey(start), { node: start, previous: null }]]);
  const queue: LinkNode[] = [start];
  for (let head = 0; head < queue.length && !cameFrom.has(goal); head++) {
    const node = queue[head] as LinkNode;
    for (const next of graph.neighbours(node).sort(order)) {
      const key = nodeKey(next);
      if (cameFrom.has(key)) continue;
      cameFrom.set(key, { node: next, previous: nodeKey(node) });
      queue.push(next);
    }
  }
  if (!cameFrom.has(goal)) return null;
  const steps: LinkNode[] = [];
  let key: string | null = goal;
  while (key !== null) {
    const entry = cameFrom.get(key) as { node: LinkNode; previous: string | null };
    steps.push(entry.node);
    key = entry.previous;
  }
  return steps.reverse();
}
