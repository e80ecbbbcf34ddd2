/**
 * The customer's history: the event log's entries about its contacts as a timeline, oldest first
 * — the order the API pages in, so "Show later events" simply adds to the end and the timeline
 * reads as the story it is (created, grew, merged…). A customer the log knows nothing about says
 * so, in the API's words, instead of showing an empty timeline.
 *
 * With an admin key, each merge in the timeline offers "Unmerge event N…" (one a later
 * `customer.unmerged` undid says so instead); without one, there is no such control at all.
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
  /** Adds or removes the admin controls, after the admin key was given or forgotten. */
  refreshAdminControls(): void;
}

export interface HistoryAdmin {
  /** Whether admin controls are offered (an admin key is kept). */
  enabled(): boolean;
  /** "Unmerge event N…" was pressed on `event` (a `customer.merged`) of customer `primaryContactId`. */
  unmerge(event: ContactEvent, primaryContactId: number, button: HTMLButtonElement): void;
}

export function createHistoryView(admin: HistoryAdmin): HistoryView {
  const status = byId('history-status', HTMLParagraphElement);
  const note = byId('history-note', HTMLParagraphElement);
  const list = byId('history-events', HTMLOListElement);
  const more = byId('history-more', HTMLButtonElement);
  let customerId: number | null = null;
  let nextAfter = 0;
  let shownEvents = 0;
  let inFlight: AbortController | null = null;
  /** The merges shown, and the event that undid each merge undone (as far as the pages loaded tell). */
  const merges = new Map<number, { event: ContactEvent; actions: HTMLElement }>();
  const undoneBy = new Map<number, number>();

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
    const items = history.events.map((event) => {
      const item = eventItem(event);
      if (event.type === 'customer.merged') {
        const actions = h('div', { class: 'event-actions' });
        item.append(actions);
        merges.set(event.id, { event, actions });
      }
      const undone = undoneMerge(event);
      if (undone !== null) undoneBy.set(undone, event.id);
      return item;
    });
    list.append(...items);
    refreshAdminControls();
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

  function refreshAdminControls(): void {
    const shown = admin.enabled() ? customerId : null;
    for (const [id, { event, actions }] of merges) {
      const undoneEvent = undoneBy.get(id);
      if (shown === null) actions.replaceChildren();
      else if (undoneEvent !== undefined) actions.replaceChildren(h('p', { class: 'event-undone' }, `Undone by event ${undoneEvent}.`));
      else if (actions.querySelector('button') === null) {
        const button = h(
          'button',
          { type: 'button', class: 'danger-button small-button', 'aria-haspopup': 'dialog' },
          `Unmerge event ${id}…`,
        );
        button.addEventListener('click', () => admin.unmerge(event, shown, button));
        actions.replaceChildren(button);
      }
      actions.hidden = actions.childElementCount === 0;
    }
  }

  more.addEventListener('click', () => void load(nextAfter));

  return {
    show(primaryContactId) {
      customerId = primaryContactId;
      list.replaceChildren();
      merges.clear();
      undoneBy.clear();
      shownEvents = 0;
      note.hidden = true;
      void load(0);
    },
    hide() {
      inFlight?.abort();
      inFlight = null;
      customerId = null;
    },
    refreshAdminControls,
  };
}

/** The merge a `customer.unmerged` event undid (its `detail.mergeEventId`), or null. */
function undoneMerge(event: ContactEvent): number | null {
  if (event.type !== 'customer.unmerged') return null;
  const { mergeEventId } = event.detail as Record<string, unknown>;
  return typeof mergeEventId === 'number' ? mergeEventId : null;
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
