/**
 * Configuration from the environment and an optional `.env` file, validated once at start-up.
 * Invalid configuration is a `ConfigError` whose message is one line meant for the operator.
 */
import { readFileSync } from 'node:fs';
import { envSchema } from 'env-schema';
import { Type, type Static } from '@sinclair/typebox';
import type { DatabaseTarget } from './db/database.js';
import { DEFAULT_DELIVERY_SETTINGS, type DeliverySettings } from './delivery/deliverer.js';
import { checkWebhookUrl, InvalidWebhookUrlError } from './delivery/webhookAdmin.js';
import type { PresetName } from './identity/blocklistPreset.js';
import type { NormalFormRules } from './identity/normalise.js';
import { isPhoneRegion, type PhoneRegion } from './identity/phoneNumbers.js';
import { DEFAULT_MAX_CUSTOMER_CONTACTS } from './identity/reconcile.js';
import { DEFAULT_HTTP_SETTINGS, defaultMaxConnections, defaultMaxInFlight, type HttpSettings } from './http/settings.js';

/** Shorter keys can be guessed; 16 characters is the least we accept (README: use 32+ random). */
const MIN_API_KEY_LENGTH = 16;

const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(postgres(ql)?://|memory://$)' })),
  DB_HOST: Type.Optional(Type.String({ minLength: 1 })),
  DB_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
  DB_USER: Type.Optional(Type.String()),
  DB_PASSWORD: Type.Optional(Type.String()),
  DB_NAME: Type.Optional(Type.String()),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  DB_TRANSACTION_POOLER: Type.Boolean({ default: false }),
  DB_POOL_WAIT_MS: Type.Integer({ minimum: 1, default: 5000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  RESPONSE_FORMAT: Type.Union([Type.Literal('customer'), Type.Literal('bitespeed')], { default: 'customer' }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  WEB_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  API_KEYS: Type.Optional(Type.String()),
  METRICS_REQUIRE_KEY: Type.Boolean({ default: false }),
  DOCS_REQUIRE_KEY: Type.Boolean({ default: false }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: DEFAULT_HTTP_SETTINGS.rateLimitMax }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1, default: DEFAULT_HTTP_SETTINGS.rateLimitWindowMs }),
  CORS_ORIGINS: Type.Optional(Type.String()),
  TRUST_PROXY: Type.Boolean({ default: DEFAULT_HTTP_SETTINGS.trustProxy }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 0, default: DEFAULT_HTTP_SETTINGS.requestTimeoutMs }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: DEFAULT_HTTP_SETTINGS.keepAliveTimeoutMs }),
  /** Unset: derived from the open-files limit (settings.ts). */
  MAX_CONNECTIONS: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Unset: four times DB_POOL_SIZE, at least 8 (settings.ts). */
  OVERLOAD_MAX_IN_FLIGHT: Type.Optional(Type.Integer({ minimum: 0 })),
  OVERLOAD_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: DEFAULT_HTTP_SETTINGS.maxWaitMs }),
  OVERLOAD_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: DEFAULT_HTTP_SETTINGS.maxEventLoopDelayMs }),
  ADMIN_API_KEYS: Type.Optional(Type.String()),
  ADMIN_API_OPEN: Type.Boolean({ default: false }),
  MAX_CUSTOMER_CONTACTS: Type.Integer({ minimum: 0, default: DEFAULT_MAX_CUSTOMER_CONTACTS }),
  BLOCKLIST_PRESET: Type.Union([Type.Literal('none'), Type.Literal('recommended')], { default: 'none' }),
  /** ISO 3166 code (`IN`, `US`…): valid phone numbers are stored in E.164 (docs/normal-forms.md). */
  DEFAULT_PHONE_REGION: Type.Optional(Type.String()),
  EMAIL_CANONICAL_FORM: Type.Union([Type.Literal('none'), Type.Literal('provider')], { default: 'none' }),
  /** `off` exists for the bench's side-by-side cost measurement only (docs/benchmarks.md). */
  GOVERNANCE: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  /** Change events to webhooks (docs/webhooks.md): comma-separated URLs, and their signing secret. */
  WEBHOOK_URLS: Type.Optional(Type.String()),
  WEBHOOK_SECRET: Type.Optional(Type.String()),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 1, default: DEFAULT_DELIVERY_SETTINGS.timeoutMs }),
  WEBHOOK_RETRY_HOURS: Type.Number({ minimum: 0, default: DEFAULT_DELIVERY_SETTINGS.retryWindowMs / 3_600_000 }),
  WEBHOOK_BACKOFF_BASE_MS: Type.Integer({ minimum: 1, default: DEFAULT_DELIVERY_SETTINGS.backoffBaseMs }),
  WEBHOOK_BACKOFF_CAP_MS: Type.Integer({ minimum: 1, default: DEFAULT_DELIVERY_SETTINGS.backoffCapMs }),
  WEBHOOK_LEASE_MS: Type.Integer({ minimum: 1, default: DEFAULT_DELIVERY_SETTINGS.leaseMs }),
  WEBHOOK_POLL_MS: Type.Integer({ minimum: 10, default: DEFAULT_DELIVERY_SETTINGS.pollMs }),
});

type RawConfig = Static<typeof ConfigSchema>;

export interface GovernanceSettings {
  /** Blocked values, the size cap and the event log; off only in the bench's baseline runs. */
  enabled: boolean;
  /** Live rows a request may grow a customer to; 0: no cap. */
  maxCustomerContacts: number;
  /** A preset of rules added at start-up (missing ones only). */
  preset: PresetName | null;
}

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  logLevel: string;
  responseFormat: 'customer' | 'bitespeed';
  migrateOnStart: boolean;
  /** HTTP worker processes; more than one needs PostgreSQL. */
  workers: number;
  http: HttpSettings;
  governance: GovernanceSettings;
  /** Which written values are one identifier; the table records them and must agree. */
  normalForm: NormalFormRules;
  /** Change events to webhooks: WEBHOOK_URLS, the secret, retries, timeouts, leases. */
  delivery: DeliverySettings;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Settings that no longer exist, and what replaced them: refused rather than silently ignored. */
const REPLACED_SETTINGS: Record<string, string> = {
  OVERLOAD_POOL_WAITING:
    'OVERLOAD_POOL_WAITING was replaced by OVERLOAD_MAX_IN_FLIGHT and OVERLOAD_MAX_WAIT_MS (docs/operations.md, "Overload and outages"); remove it',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, useDotenv = true): Config {
  let raw: RawConfig;
  try {
    raw = envSchema<RawConfig>({ schema: ConfigSchema, data: env, dotenv: useDotenv });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message.replace(/env\//g, '')}`);
  }
  for (const [name, replacement] of Object.entries(REPLACED_SETTINGS)) {
    if (env[name] !== undefined) throw new ConfigError(`invalid configuration: ${replacement}`);
  }
  const database = databaseTarget(raw);
  if (raw.WEB_CONCURRENCY > 1 && database.kind === 'pglite') {
    throw new ConfigError('invalid configuration: WEB_CONCURRENCY > 1 needs PostgreSQL (DATABASE_URL); embedded PGlite serves one process');
  }
  return {
    port: raw.PORT,
    host: raw.HOST,
    database,
    logLevel: raw.LOG_LEVEL,
    responseFormat: raw.RESPONSE_FORMAT,
    migrateOnStart: raw.MIGRATE_ON_START,
    workers: raw.WEB_CONCURRENCY,
    http: httpSettings(raw, database),
    governance: {
      enabled: raw.GOVERNANCE === 'on',
      maxCustomerContacts: raw.MAX_CUSTOMER_CONTACTS,
      preset: raw.BLOCKLIST_PRESET === 'none' ? null : raw.BLOCKLIST_PRESET,
    },
    normalForm: { phoneRegion: phoneRegion(raw.DEFAULT_PHONE_REGION), emailCanonicalForm: raw.EMAIL_CANONICAL_FORM },
    delivery: deliverySettings(raw),
  };
}

/** WEBHOOK_*: the URLs must be http(s) and come with a secret; a lease must outlast an attempt. */
function deliverySettings(raw: RawConfig): DeliverySettings {
  const urls = [...new Set(list(raw.WEBHOOK_URLS))];
  for (const url of urls) {
    try {
      checkWebhookUrl(url);
    } catch (error) {
      if (error instanceof InvalidWebhookUrlError)
        throw new ConfigError(`invalid configuration: every WEBHOOK_URLS entry: ${error.message}`);
      throw error;
    }
  }
  const secret = raw.WEBHOOK_SECRET?.trim() || null;
  if (urls.length > 0 && secret === null)
    throw new ConfigError('invalid configuration: WEBHOOK_URLS needs WEBHOOK_SECRET (the signing secret)');
  if (secret !== null && secret.length < MIN_API_KEY_LENGTH) {
    throw new ConfigError(`invalid configuration: WEBHOOK_SECRET must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  if (raw.WEBHOOK_LEASE_MS < 2 * raw.WEBHOOK_TIMEOUT_MS) {
    throw new ConfigError(
      'invalid configuration: WEBHOOK_LEASE_MS must be at least twice WEBHOOK_TIMEOUT_MS (a lease outlasts an attempt)',
    );
  }
  return {
    urls,
    secret,
    timeoutMs: raw.WEBHOOK_TIMEOUT_MS,
    retryWindowMs: Math.round(raw.WEBHOOK_RETRY_HOURS * 3_600_000),
    backoffBaseMs: raw.WEBHOOK_BACKOFF_BASE_MS,
    backoffCapMs: Math.max(raw.WEBHOOK_BACKOFF_CAP_MS, raw.WEBHOOK_BACKOFF_BASE_MS),
    leaseMs: raw.WEBHOOK_LEASE_MS,
    pollMs: raw.WEBHOOK_POLL_MS,
  };
}

/** Blank is unset; any case is accepted (`in` is `IN`); a code the phone metadata lacks is refused. */
function phoneRegion(value: string | undefined): PhoneRegion | null {
  const code = (value ?? '').trim().toUpperCase();
  if (code === '') return null;
  if (!isPhoneRegion(code)) {
    throw new ConfigError(
      'invalid configuration: DEFAULT_PHONE_REGION must be an ISO 3166 country code with phone numbering rules, such as IN, US, GB or DE',
    );
  }
  return code;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function httpSettings(raw: RawConfig, database: DatabaseTarget): HttpSettings {
  const apiKeys = keyList(raw.API_KEYS, 'API_KEYS');
  const adminApiKeys = keyList(raw.ADMIN_API_KEYS, 'ADMIN_API_KEYS');
  if (adminApiKeys.some((key) => apiKeys.includes(key))) {
    throw new ConfigError('invalid configuration: an ADMIN_API_KEYS entry is also in API_KEYS; admin keys must be keys of their own');
  }
  return {
    apiKeys,
    adminApiKeys,
    adminApiOpen: raw.ADMIN_API_OPEN,
    protectMetrics: raw.METRICS_REQUIRE_KEY,
    protectDocs: raw.DOCS_REQUIRE_KEY,
    rateLimitMax: raw.RATE_LIMIT_MAX,
    rateLimitWindowMs: raw.RATE_LIMIT_WINDOW_MS,
    corsOrigins: list(raw.CORS_ORIGINS),
    trustProxy: raw.TRUST_PROXY,
    requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: raw.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: raw.MAX_CONNECTIONS ?? defaultMaxConnections(openFilesLimit(), poolSize(database)),
    maxInFlight: raw.OVERLOAD_MAX_IN_FLIGHT ?? defaultMaxInFlight(poolSize(database)),
    maxWaitMs: raw.OVERLOAD_MAX_WAIT_MS,
    maxEventLoopDelayMs: raw.OVERLOAD_EVENT_LOOP_DELAY_MS,
  };
}

function keyList(value: string | undefined, name: string): string[] {
  const keys = list(value);
  if (keys.some((key) => key.length < MIN_API_KEY_LENGTH)) {
    throw new ConfigError(`invalid configuration: every ${name} entry must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  return keys;
}

/** Database connections per process: embedded PGlite is one session. */
const poolSize = (database: DatabaseTarget) => (database.kind === 'postgres' ? database.poolSize : 1);

/** Where it cannot be read (not Linux), the common default of 1024. */
const FALLBACK_OPEN_FILES = 1024;

/**
 * This process's open-files limit (RLIMIT_NOFILE, soft, which Node.js raises to the hard limit at
 * start-up), from /proc/self/limits.
 */
export function openFilesLimit(limits = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(limits())?.[1];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : FALLBACK_OPEN_FILES;
  } catch {
    return FALLBACK_OPEN_FILES;
  }
}

/** DATABASE_URL wins; then the seed's DB_* settings; with neither, embedded PGlite on disk. */
function databaseTarget(raw: RawConfig): DatabaseTarget {
  if (raw.DATABASE_URL === 'memory://') return { kind: 'pglite', dataDir: null };
  const pooling = { poolSize: raw.DB_POOL_SIZE, poolWaitMs: raw.DB_POOL_WAIT_MS, transactionPooler: raw.DB_TRANSACTION_POOLER };
  if (raw.DATABASE_URL) return { kind: 'postgres', connectionString: raw.DATABASE_URL, ...pooling };
  if (raw.DB_HOST || raw.DB_USER || raw.DB_NAME || raw.DB_PASSWORD) {
    const url = new URL('postgresql://');
    url.hostname = raw.DB_HOST ?? 'localhost';
    url.port = String(raw.DB_PORT);
    url.username = raw.DB_USER ?? '';
    url.password = raw.DB_PASSWORD ?? '';
    url.pathname = `/${raw.DB_NAME ?? 'postgres'}`;
    return { kind: 'postgres', connectionString: url.toString(), ...pooling };
  }
  return { kind: 'pglite', dataDir: raw.DATA_DIR };
}
