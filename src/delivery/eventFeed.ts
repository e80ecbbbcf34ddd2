/**
 * The pull side of change events (`GET /events?after=&limit=`): the log in id order, only
 * up to the watermark, so a reader that keeps the last id it got never skips an event that
 * commits late — the same events, in the same order, as webhooks get.
 */
import { toPayload, type EventPayload } from './events.js';
import type { DeliveryStore } from './store.js';

export interface EventPage {
  events: EventPayload[];
  /** `after` of the next page when this one is full and more are final; null when caught up. */
  next: string | null;
  /** Every event with an id up to this one is final (visible or never will be). */
  safeThrough: string;
}

export interface EventFeed {
  page(after: string, limit: number): Promise<EventPage>;
}

export function createEventFeed(store: Pick<DeliveryStore, 'advanceWatermark' | 'events'>): EventFeed {
  return {
    async page(after, limit) {
      const safeThrough = await store.advanceWatermark();
      const rows = BigInt(after) >= BigInt(safeThrough) ? [] : await store.events(after, safeThrough, limit);
      const last = rows.at(-1);
      const next = rows.length === limit && last !== undefined && BigInt(last.id) < BigInt(safeThrough) ? last.id : null;
      return { events: rows.map(toPayload), next, safeThrough };
    },
  };
}
