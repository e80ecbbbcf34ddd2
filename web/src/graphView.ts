/**
 * The identity graph drawn with cytoscape: contacts as boxes (the primary dark, with a gold ring),
 * emails as green ovals, phone numbers as amber tags, merges as dashed red arrows. Tapping a
 * contact selects it. The caption counts what was drawn, so people (and the browser tests) read
 * the same numbers the picture shows.
 */
import cytoscape from 'cytoscape';
import { count } from './format.js';
import { contactNodeId, describeGraph, type GraphPath, type IdentityGraph } from './identityGraph.js';

export interface GraphView {
  show(graph: IdentityGraph, primaryContactId: number): void;
  /** Rings the contact's node, or no node for null. */
  select(contactId: number | null): void;
  /**
   * Emphasises an explanation's path (thick red edges and rings, everything else faded), or
   * removes the emphasis for null. The container's `data-path` lists what is emphasised.
   */
  showPath(path: GraphPath | null): void;
}

/**
 * Past this many nodes the layout takes seconds and the picture is a blur of labels; such a
 * customer (often a shared placeholder phone or email) is read from the table instead.
 */
export const MAX_DRAWN_NODES = 300;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

const STYLE: cytoscape.StylesheetJson = [
  { selector: 'node', style: { label: 'data(label)', 'font-family': FONT, 'font-size': 15, color: '#1f2937', 'border-width': 2 } },
  {
    selector: 'node[kind = "contact"]',
    style: {
      shape: 'round-rectangle',
      width: 56,
      height: 34,
      'background-color': '#dbeafe',
      'border-color': '#1d4ed8',
      'text-valign': 'center',
      'font-weight': 'bold',
    },
  },
  {
    selector: 'node[?primary]',
    style: {
      shape: 'round-octagon',
      width: 68,
      height: 44,
      'background-color': '#1e3a8a',
      'border-color': '#f59e0b',
      'border-width': 4,
      color: '#ffffff',
    },
  },
  {
    selector: 'node[kind = "email"], node[kind = "phone"]',
    style: { width: 20, height: 20, 'text-valign': 'bottom', 'text-margin-y': 4, 'text-wrap': 'ellipsis', 'text-max-width': '240px' },
  },
  { selector: 'node[kind = "email"]', style: { shape: 'ellipse', 'background-color': '#dcfce7', 'border-color': '#15803d' } },
  { selector: 'node[kind = "phone"]', style: { shape: 'tag', 'background-color': '#fef3c7', 'border-color': '#b45309' } },
  { selector: 'node.chosen', style: { 'underlay-color': '#dc2626', 'underlay-opacity': 0.35, 'underlay-padding': 6 } },
  { selector: '.off-path', style: { opacity: 0.25 } },
  { selector: 'node.on-path', style: { 'border-color': '#7c2d12', 'border-width': 5 } },
  {
    selector: 'edge',
    style: {
      label: 'data(label)',
      'font-family': FONT,
      'font-size': 12,
      color: '#475569',
      width: 1.5,
      'line-color': '#94a3b8',
      'curve-style': 'bezier',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': '1px',
    },
  },
  {
    selector: 'edge[kind = "merged"]',
    style: {
      width: 3,
      'line-style': 'dashed',
      'line-color': '#dc2626',
      color: '#b91c1c',
      'font-weight': 'bold',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#dc2626',
    },
  },
  {
    selector: 'edge[kind = "explained"]',
    style: {
      'line-style': 'dashed',
      'curve-style': 'unbundled-bezier',
      'control-point-distances': [40],
      'control-point-weights': [0.5],
    },
  },
  // Last, so that it wins: the path reads as one thick line whatever its edges' kinds.
  {
    selector: 'edge.on-path',
    style: { width: 6, 'line-color': '#7c2d12', color: '#7c2d12', 'font-weight': 'bold', 'z-index': 10, 'target-arrow-color': '#7c2d12' },
  },
];

export function createGraphView(container: HTMLElement, caption: HTMLElement, onSelectContact: (contactId: number) => void): GraphView {
  const cy = cytoscape({
    container,
    style: STYLE,
    // The graph always fits its box; dragging on it must scroll a phone's page, not pan the picture.
    userPanningEnabled: false,
    userZoomingEnabled: false,
    boxSelectionEnabled: false,
    autounselectify: true,
  });
  cy.on('tap', 'node[kind = "contact"]', (event) => onSelectContact(event.target.data('contactId') as number));
  let primaryId: number | null = null;
  let portrait = false;

  // Levels outward from the primary: its identifiers, the contacts sharing them, their
  // identifiers… Top-down in a wide box; left to right in a tall one (a phone), where the
  // levels' long rows of labels fit better as columns.
  function runLayout(): void {
    if (primaryId === null) return;
    portrait = container.clientHeight > container.clientWidth;
    cy.layout({
      name: 'breadthfirst',
      roots: [contactNodeId(primaryId)],
      padding: 24,
      spacingFactor: 1,
      nodeDimensionsIncludeLabels: true,
      animate: false,
      ...(portrait ? { transform: (_node: cytoscape.NodeSingular, { x, y }: cytoscape.Position) => ({ x: y, y: x }) } : {}),
    }).run();
  }

  new ResizeObserver(() => {
    if (container.clientWidth === 0) return; // hidden between two searches
    cy.resize();
    if (portrait !== container.clientHeight > container.clientWidth) runLayout();
    else cy.fit(undefined, 24);
  }).observe(container);

  return {
    show(graph, primaryContactId) {
      cy.elements().remove();
      delete container.dataset.path;
      if (graph.nodes.length > MAX_DRAWN_NODES) {
        primaryId = null;
        caption.textContent = `Not drawn: ${count(graph.nodes.length, 'node')} are more than a picture can show legibly (at most ${MAX_DRAWN_NODES}). The table lists every contact.`;
        return;
      }
      cy.add([
        ...graph.nodes.map((node) => ({ group: 'nodes' as const, data: { ...node } })),
        ...graph.edges.map((edge) => ({ group: 'edges' as const, data: { ...edge } })),
      ]);
      primaryId = primaryContactId;
      runLayout();
      const contacts = cy.nodes('[kind = "contact"]').length;
      const merges = cy.edges('[kind = "merged"]').length;
      caption.textContent = describeGraph({
        contacts,
        identifiers: cy.nodes().length - contacts,
        identifierLinks: cy.edges().length - merges,
        merges,
      });
    },
    select(contactId) {
      cy.nodes('.chosen').removeClass('chosen');
      if (contactId !== null) cy.getElementById(contactNodeId(contactId)).addClass('chosen');
    },
    showPath(path) {
      cy.edges('[kind = "explained"]').remove();
      cy.elements().removeClass('on-path off-path');
      delete container.dataset.path;
      if (path === null || primaryId === null) return;
      cy.add(path.extraEdges.map((edge) => ({ group: 'edges' as const, data: { ...edge } })));
      const onPath = new Set([...path.nodeIds, ...path.edgeIds]);
      cy.elements().forEach((element) => {
        element.addClass(onPath.has(element.id()) ? 'on-path' : 'off-path');
      });
      container.dataset.path = [...path.nodeIds, ...path.edgeIds].join(' ');
    },
  };
}
