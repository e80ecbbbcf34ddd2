/**
 * What delivery needs of storage, in its own terms; src/db/deliveryStore.ts implements it.
 * Event ids are bigints and travel as decimal strings.
 */
import type { LoggedEvent } from './events.js';

export type EndpointSource = 'config' | 'admin';

/** An endpoint as the admin API shows it: never its secret. */
export interface Endpoint {
  id: number;
  url: string;
  source: EndpointSource;
  createdAt: Date;
  /** The last event id handed to it (delivered or dead-lettered). */
  cursor: string;
  /** The event being retried and how it goes; null while nothing fails. */
  retrying: { eventId: string; attempts: number; nextAttemptAt: Date; lastError: string | null } | null;
  /** When the current run of failures began; null after a success. */
  failingSince: Date | null;
  deadLetters: number;
}

/** An endpoint while this process holds its lease: what delivering needs. */
export interface LeasedEndpoint {
  id: number;
  url: string;
  secret: string;
  cursor: string;
  attemptEventId: string | null;
  attempts: number;
}

/** An event to send: a dead letter asked to be sent again, or the next one after the cursor. */
export interface Outgoing extends LoggedEvent {
  redelivery: boolean;
}

export interface DeadLetter {
  eventId: string;
  attempts: number;
  lastError: string;
  at: Date;
  /** Asked to be sent again, not yet sent. */
  redeliver: boolean;
}

export interface DeliveryStats {
  /** Dead letters of every endpoint. */
  deadLetters: number;
  /** safeThrough minus the slowest endpoint's cursor (0 without endpoints). */
  lag: number;
}

export interface DeliveryStore {
  /** Advances the watermark if it can (any process may) and returns it: every event id up to it is final. */
  advanceWatermark(): Promise<string>;
  /** Events after `after`, up to `through`, in id order, at most `limit`. */
  events(after: string, through: string, limit: number): Promise<LoggedEvent[]>;

  countEndpoints(): Promise<number>;
  /** Endpoints with something to send up to `safeThrough` whose next attempt is due and whose lease is free (or ours). */
  dueEndpoints(owner: string, safeThrough: string): Promise<number[]>;
  /** Takes (or renews) the lease if it is free or ours; null if another process holds it. */
  lease(endpointId: number, owner: string, leaseMs: number): Promise<LeasedEndpoint | null>;
  release(endpointId: number, owner: string): Promise<void>;
  /** Dead letters to redeliver first, in id order, then events after the cursor up to `safeThrough`: at most `limit`. */
  outgoing(endpoint: LeasedEndpoint, safeThrough: string, limit: number): Promise<Outgoing[]>;
  /** Records a delivery and renews the lease; false if the lease is no longer ours (nothing written). */
  delivered(endpointId: number, owner: string, event: Outgoing, leaseMs: number): Promise<boolean>;
  /**
   * Records a failed attempt (the `attempts`-th at this event) and when the next is due; says
   * whether the run of failures is older than `retryWindowMs`. Null if the lease is no longer ours.
   */
  failed(
    endpointId: number,
    owner: string,
    attempt: { eventId: string; attempts: number; error: string; retryInMs: number; retryWindowMs: number },
  ): Promise<{ exhausted: boolean } | null>;
  /** Gives up on the event: a dead letter, and the cursor moves past it (a redelivery's cursor stays); renews the lease. */
  deadLetter(endpointId: number, owner: string, event: Outgoing, attempts: number, error: string, leaseMs: number): Promise<boolean>;

  listEndpoints(): Promise<Endpoint[]>;
  /** Adds an endpoint whose cursor is the watermark now; null if the URL has one already. */
  addEndpoint(url: string, secret: string, source: EndpointSource): Promise<Endpoint | null>;
  removeEndpoint(id: number): Promise<Endpoint | null>;
  /** WEBHOOK_URLS: adds the missing ones (cursor at the watermark), sets their secret, removes config endpoints no longer listed. */
  syncConfigured(urls: readonly string[], secret: string | null): Promise<void>;
  deadLetters(endpointId: number, after: string, limit: number): Promise<DeadLetter[]>;
  /** Marks a dead letter to be sent again; null if the endpoint has no dead letter for this event. */
  redeliver(endpointId: number, eventId: string): Promise<DeadLetter | null>;
  stats(): Promise<DeliveryStats>;
}
