/**
 * The customer's history: the event log's entries about its contacts as a timeline, oldest first
 * — the order the API pages in, so "Show later events" simply adds to the end and the timeline
 * reads as the story it is (created, grew, merged…). A customer the log knows nothing about says
 * so, in the API's words, instead of showing an empty timeline.
 */
import { fetchHistory } from './api.js';
import { storedApiKey } from './apiKey.js';
import { byId, h, timestamp } from './dom.js';
import { count } from './format.js';
import { describeEvent } from './historyText.js';
import type { ContactEvent, CustomerHistory } from './types.js';

export interface HistoryView {
  show(primaryContactId: number): void;
  hide(): void;
}

export function createHistoryView(): HistoryView {
  const status = byId('history-status', HTMLParagraphElement);
  const note = byId('history-note', HTMLParagraphElement);
  const list = byId('history-events', HTMLOListElement);
  const more = byId('history-more', HTMLButtonElement);
  let customerId: number | null = null;
  let nextAfter = 0;
  let shownEvents = 0;
  let inFlight: AbortController | null = null;

  async function load(after: number): Promise<void> {
    if (customerId === null) return;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    more.hidden = true;
    status.textContent = after === 0 ? 'Loading the history…' : 'Loading later events…';
    let answer;
    try {
      answer = await fetchHistory(customerId, after, { apiKey: storedApiKey(), signal: controller.signal });
    } catch {
      return; // another customer (or page) replaced this one
    }
    if (controller.signal.aborted) return;
    inFlight = null;
    if (!answer.ok) {
      status.textContent = `The history could not be loaded: ${answer.message}`;
      more.textContent = 'Try again';
      more.hidden = false;
      nextAfter = after;
      return;
    }
    render(answer.value, after > 0);
  }

  function render(history: CustomerHistory, appended: boolean): void {
    note.textContent = history.note ?? '';
    note.hidden = history.note === null;
    note.dataset.recorded = String(history.recorded);
    const items = history.events.map(eventItem);
    list.append(...items);
    shownEvents += items.length;
    const { total } = history.page;
    status.textContent =
      total === 0
        ? 'No events.'
        : shownEvents < total
          ? `${shownEvents} of ${count(total, 'event')}, oldest first.`
          : `${count(total, 'event')}, oldest first.`;
    nextAfter = history.page.nextAfter ?? 0;
    more.textContent = 'Show later events';
    more.hidden = history.page.nextAfter === null;
    // Keyboard users go on from the first event they asked for, not from the top of the page.
    if (appended) items[0]?.focus();
  }

  more.addEventListener('click', () => void load(nextAfter));

  return {
    show(primaryContactId) {
      customerId = primaryContactId;
      list.replaceChildren();
      shownEvents = 0;
      note.hidden = true;
      void load(0);
    },
    hide() {
      inFlight?.abort();
      inFlight = null;
      customerId = null;
    },
  };
}

function eventItem(event: ContactEvent): HTMLLIElement {
  const { title, sentence } = describeEvent(event);
  const meta = [
    event.requestId === null ? 'no request id' : `request ${event.requestId}`,
    `event ${event.id}`,
    ...(event.contactIds.length > 0 ? [`contacts ${event.contactIds.map((id) => `#${id}`).join(', ')}`] : []),
  ].join(' · ');
  return h(
    'li',
    { class: 'event', 'data-type': event.type, tabindex: '-1' },
    h('p', { class: 'event-head' }, h('strong', {}, title), ' ', timestamp(event.at)),
    h('p', {}, sentence),
    h('p', { class: 'event-meta' }, meta),
  );
}
