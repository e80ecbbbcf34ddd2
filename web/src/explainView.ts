/**
 * "Why is this contact here?": for the chosen contact, the chain of shared identifiers and logged
 * merges that joins it to the primary (or to another contact the person picks), in words and
 * emphasised on the graph. A pair nothing recorded joins gets the API's sentence, and no chain.
 */
import { fetchExplanation } from './api.js';
import { storedApiKey } from './apiKey.js';
import { byId, h } from './dom.js';
import type { GraphView } from './graphView.js';
import { describeExplanation } from './historyText.js';
import { pathOnGraph } from './identityGraph.js';
import type { CustomerDetails } from './types.js';

export interface ExplainView {
  /** Offers the question for `contactId` of `customer`, or nothing for null; clears any answer. */
  show(customer: CustomerDetails, contactId: number | null): void;
}

export function createExplainView(graph: GraphView): ExplainView {
  const panel = byId('explain', HTMLDivElement);
  const from = byId('explain-from', HTMLSelectElement);
  const button = byId('explain-button', HTMLButtonElement);
  const summary = byId('explain-summary', HTMLParagraphElement);
  const links = byId('explain-links', HTMLOListElement);
  let customer: CustomerDetails | null = null;
  let to: number | null = null;
  let inFlight: AbortController | null = null;

  function clear(): void {
    inFlight?.abort();
    inFlight = null;
    summary.textContent = '';
    links.replaceChildren();
    links.hidden = true;
    graph.showPath(null);
  }

  async function explain(): Promise<void> {
    if (customer === null || to === null) return;
    clear();
    const controller = new AbortController();
    inFlight = controller;
    summary.textContent = 'Finding the chain…';
    let answer;
    try {
      answer = await fetchExplanation(customer.primaryContactId, Number(from.value), to, {
        apiKey: storedApiKey(),
        signal: controller.signal,
      });
    } catch {
      return; // another contact was chosen
    }
    if (controller.signal.aborted) return;
    inFlight = null;
    if (!answer.ok) {
      summary.textContent = `The chain could not be found: ${answer.message}`;
      return;
    }
    const text = describeExplanation(answer.value);
    summary.textContent = text.summary;
    links.replaceChildren(...text.links.map((sentence) => h('li', {}, sentence)));
    links.hidden = text.links.length === 0;
    if (answer.value.kind === 'path') graph.showPath(pathOnGraph(answer.value.steps));
  }

  button.addEventListener('click', () => void explain());
  from.addEventListener('change', clear);

  return {
    show(shown, contactId) {
      clear();
      customer = shown;
      to = contactId;
      panel.hidden = contactId === null;
      if (contactId === null) return;
      from.replaceChildren(
        ...shown.contacts.map((contact) =>
          h('option', { value: String(contact.id) }, contact.id === shown.primaryContactId ? `#${contact.id} (primary)` : `#${contact.id}`),
        ),
      );
      from.value = String(shown.primaryContactId);
      button.textContent = `Why is #${contactId} here?`;
    },
  };
}
