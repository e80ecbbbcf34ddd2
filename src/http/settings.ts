/** What an operator sets about the HTTP edge: access, abuse limits, timeouts, overload. */
export interface HttpSettings {
  /** Accepted API keys; empty means the API is open (README warns against exposing it). */
  apiKeys: string[];
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
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Answer 503 OVERLOADED instead of queueing past these bounds; 0 turns a bound off. */
  maxEventLoopDelayMs: number;
  maxPoolWaiting: number;
}

export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  apiKeys: [],
  protectMetrics: false,
  protectDocs: false,
  rateLimitMax: 0,
  rateLimitWindowMs: 60_000,
  corsOrigins: [],
  trustProxy: false,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  maxEventLoopDelayMs: 1_000,
  maxPoolWaiting: 200,
};
