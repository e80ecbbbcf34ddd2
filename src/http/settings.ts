/** What an operator sets about the HTTP edge: access, abuse limits, timeouts, overload. */
export interface HttpSettings {
  /** Accepted API keys; empty means the API is open (README warns against exposing it). */
  apiKeys: string[];
  /** Keys of the admin API (/admin/...), a list of their own; empty means it refuses every request unless `adminApiOpen`. */
  adminApiKeys: string[];
  /** Serve the admin API without keys (a private network, a test): must be said explicitly. */
  adminApiOpen: boolean;
  /** With API keys set, whether /metrics and /docs (with /openapi.json) need a key too. */
  protectMetrics: boolean;
  protectDocs: boolean;
  /** Requests per window per API key (per client IP without keys); 0 turns limiting off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Origins allowed to call the API from a browser; empty means no CORS headers at all. */
  corsOrigins: string[];
  /** Whether X-Forwarded-For is believed (behind a reverse proxy), for client IPs. */
  trustProxy: boolean;
  /** Time a client has to send a whole request, headers and body; 0 turns it off. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed as they arrive. 0: no cap. */
  maxConnections: number;
  /**
   * Admission to the API (plugins/overload.ts): at most `maxInFlight` requests are processed at
   * once and the rest wait in line, at most `maxWaitMs` each before 503 OVERLOADED; every API
   * request is refused while the event loop lags more than `maxEventLoopDelayMs`. 0 turns a
   * bound off.
   */
  maxInFlight: number;
  maxWaitMs: number;
  maxEventLoopDelayMs: number;
}

export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  apiKeys: [],
  adminApiKeys: [],
  adminApiOpen: false,
  protectMetrics: false,
  protectDocs: false,
  rateLimitMax: 0,
  rateLimitWindowMs: 60_000,
  corsOrigins: [],
  trustProxy: false,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 0,
  maxInFlight: defaultMaxInFlight(10),
  maxWaitMs: 2_000,
  maxEventLoopDelayMs: 1_000,
};

/**
 * Requests processed at once: twice the database pool, so that the pool has the next queries
 * ready while requests are parsed and answered, and no more, so that the rest wait in line as
 * cheap, unparsed requests. This is the setting bench/results/overload.md was measured with (every
 * load within 20% of 50 connections); four times the pool served about a sixth more lookups at 50
 * connections in one busy-machine run but only 73-76% of that for new customers at 600 and 1,000:
 * not adopted until measured on a quiet machine.
 */
export function defaultMaxInFlight(poolSize: number): number {
  return Math.max(8, 2 * poolSize);
}

/** Above this, idle connections cost more memory than any one process should hold. */
const MAX_CONNECTIONS_CEILING = 10_000;

/**
 * The connection cap when none is set: a fifth of the open-files limit stays free for the
 * database pool, log files and Node.js itself, so that accept() never runs out of descriptors.
 */
export function defaultMaxConnections(openFilesLimit: number, poolSize: number): number {
  return Math.max(1, Math.min(MAX_CONNECTIONS_CEILING, Math.floor(openFilesLimit * 0.8) - poolSize));
}
