import path from 'node:path';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './engine/expression-limits.ts';
import { parseRetryCycle, type RetryPolicy } from './engine/retry.ts';
import { DEFAULT_VARIABLE_LIMITS, type VariableLimits } from './forms/variable-limits.ts';

/** Which demo parts `npm start` brings up. */
export type DemoMode = 'all' | 'users' | 'off';

/** Where instances live: the embedded SQLite store (default) or MongoDB (MONGODB_URI). */
export type StoreConfig =
  | { kind: 'sqlite'; dataDir: string }
  | { kind: 'mongodb'; uri: string };

/** The built-in connectors: in-process workers on reserved topics (README, "Connectors"). */
export type ConnectorName = 'sms' | 'email' | 'http';
export const CONNECTOR_NAMES: readonly ConnectorName[] = ['sms', 'email', 'http'];

/** Twilio credentials; the auth token is a secret and is never logged. */
export interface TwilioConfig {
  readonly accountSid: string;
  readonly authToken: string;
  /** sender: an E.164 number or a Messaging Service SID (MG...) */
  readonly from: string;
  /** base URL of Twilio's REST API (a gateway or test endpoint that speaks it) */
  readonly apiUrl: string;
}

/** What the built-in connectors need. Without Twilio or SMTP set, SMS and e-mail are only logged. */
export interface ConnectorsConfig {
  readonly enabled: readonly ConnectorName[];
  readonly twilio: TwilioConfig | null;
  /** smtp:// or smtps:// URL, credentials included (a secret: never logged) */
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  /** E.164 number that gets SMS without another recipient */
  readonly adminPhone: string | null;
  /** address that gets e-mail without another recipient */
  readonly adminEmail: string | null;
  /** longest wait for one HTTP connector call */
  readonly httpTimeoutMs: number;
}

/** Baton's configuration, read once from the environment by {@link readConfig}. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly store: StoreConfig;
  readonly usersFile: string | null;
  readonly demo: DemoMode;
  readonly logLevel: string;
  /** how often the scheduler looks for due timers, in milliseconds */
  readonly timerIntervalMs: number;
  /** largest accepted request body (BPMN uploads and JSON), in bytes */
  readonly bodyLimitBytes: number;
  /** where people reach Baton's web app; links in e-mails point there */
  readonly publicUrl: string;
  /** retries of a failing job when its model sets none (BATON_RETRY_CYCLE) */
  readonly retryPolicy: RetryPolicy;
  readonly connectors: ConnectorsConfig;
  /** the script formats script tasks may use (BATON_SCRIPT_FORMATS); none by default */
  readonly scriptFormats: readonly string[];
  /** engines of recently run instances kept in memory for their next event (BATON_LIVE_ENGINES); 0 keeps none */
  readonly liveEngines: number;
  /** reverse proxies in front of Baton whose X-Forwarded-For is believed (BATON_TRUST_PROXY); 0: none, the socket's address counts */
  readonly trustProxy: number;
  /** the steps, time, memory and result size of one expression's evaluation (BATON_EXPRESSION_*) */
  readonly expressionLimits: ExpressionLimits;
  /** bounds on an instance's variables and on string form fields (BATON_VARIABLE_MAX_BYTES and friends) */
  readonly variableLimits: VariableLimits;
  /** JSON request bodies with more object properties are refused before they are parsed (BATON_JSON_MAX_PROPERTIES) */
  readonly jsonMaxProperties: number;
  /** live-update event streams (GET /api/web/instances/<id>/events) open at once, per user and per node */
  readonly eventStreams: { readonly perUser: number; readonly total: number };
}

/** Thrown when the environment holds bad values; its message names every bad variable. */
export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** A phone number in E.164 form: + and 7 to 15 digits. */
export const E164 = /^\+[1-9]\d{6,14}$/;
/** A plain e-mail address (no display name). */
export const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

/**
 * Reads the configuration from the environment, reports every problem at once and returns a
 * frozen object. Nothing else in Baton reads `process.env`.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d{1,10}$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!values.includes(raw as T)) {
      problems.push(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  /** a URL of one of the protocols; the value is never echoed (it may hold a password) */
  const url = (name: string, protocols: string[], example: string): string | null => {
    const raw = env[name];
    if (raw === undefined || raw === '') return null;
    const parsed = URL.canParse(raw) ? new URL(raw) : null;
    if (!parsed || !protocols.includes(parsed.protocol) || !parsed.hostname) {
      problems.push(`${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL such as ${example}`);
      return null;
    }
    return raw.replace(/\/+$/, '');
  };
  const matching = (name: string, pattern: RegExp, what: string): string | null => {
    const raw = env[name];
    if (raw === undefined || raw === '') return null;
    if (!pattern.test(raw.trim())) {
      problems.push(`${name} must be ${what}, got "${raw}"`);
      return null;
    }
    return raw.trim();
  };

  const port = int('PORT', 3000, 0, 65535);
  const demo = oneOf<DemoMode>('BATON_DEMO', ['all', 'users', 'off'], 'off');
  const logLevel = oneOf('BATON_LOG_LEVEL', LOG_LEVELS, 'info');
  const timerIntervalMs = int('BATON_TIMER_INTERVAL_MS', 1000, 10, 3_600_000);
  const liveEngines = int('BATON_LIVE_ENGINES', 64, 0, 100_000);
  const trustProxy = int('BATON_TRUST_PROXY', 0, 0, 10);
  const bodyLimitBytes = int('BATON_BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024);
  const dataDir = path.resolve(env.BATON_DATA_DIR || './data');
  const mongoUri = env.MONGODB_URI;
  if (mongoUri !== undefined && mongoUri !== '' && !/^mongodb(\+srv)?:\/\//.test(mongoUri)) {
    problems.push('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const usersFile = env.BATON_USERS_FILE ? path.resolve(env.BATON_USERS_FILE) : null;
  if (!usersFile && demo === 'off') {
    problems.push('BATON_USERS_FILE is required when BATON_DEMO is off (no user could sign in)');
  }

  const publicUrl = url('BATON_PUBLIC_URL', ['http:', 'https:'], 'https://baton.example.com') ?? `http://localhost:${port}`;
  let retryPolicy: RetryPolicy = { retries: 3, intervalsMs: [10_000] };
  if (env.BATON_RETRY_CYCLE) {
    try {
      retryPolicy = parseRetryCycle(env.BATON_RETRY_CYCLE);
    } catch (err) {
      problems.push(`BATON_RETRY_CYCLE: ${(err as Error).message}`);
    }
  }
  const connectors = readConnectors(env, problems, { int, url, matching });
  const scriptFormats = (env.BATON_SCRIPT_FORMATS ?? '').split(',').map((format) => format.trim().toLowerCase()).filter(Boolean);
  for (const format of scriptFormats.filter((f) => !/^[a-z][a-z0-9.+-]*$/.test(f))) {
    problems.push(`BATON_SCRIPT_FORMATS must be a comma-separated list of script formats such as feel, got "${format}"`);
  }

  const variableLimits = readVariableLimits(int, problems);
  const jsonMaxProperties = int('BATON_JSON_MAX_PROPERTIES', 100_000, 100, 100_000_000);
  const eventStreams = Object.freeze({
    perUser: int('BATON_EVENT_STREAMS_PER_USER', 20, 1, 10_000),
    total: int('BATON_EVENT_STREAMS_MAX', 2_000, 1, 1_000_000),
  });

  const e = DEFAULT_EXPRESSION_LIMITS;
  const expressionLimits: ExpressionLimits = Object.freeze({
    maxSteps: int('BATON_EXPRESSION_MAX_STEPS', e.maxSteps, 100, 100_000_000),
    timeoutMs: int('BATON_EXPRESSION_TIMEOUT_MS', e.timeoutMs, 10, 60_000),
    maxMemoryMb: int('BATON_EXPRESSION_MAX_MEMORY_MB', e.maxMemoryMb, 16, 4096),
    maxResultChars: int('BATON_EXPRESSION_MAX_RESULT_CHARS', e.maxResultChars, 1000, 100_000_000),
  });

  if (problems.length) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  const store: StoreConfig = mongoUri ? { kind: 'mongodb', uri: mongoUri } : { kind: 'sqlite', dataDir };
  return Object.freeze({
    port,
    host: env.BATON_HOST || '0.0.0.0',
    store,
    usersFile,
    demo,
    logLevel,
    timerIntervalMs,
    bodyLimitBytes,
    publicUrl,
    retryPolicy: Object.freeze({ ...retryPolicy, intervalsMs: Object.freeze([...retryPolicy.intervalsMs]) as number[] }),
    connectors,
    scriptFormats: Object.freeze(scriptFormats),
    liveEngines,
    trustProxy,
    expressionLimits,
    variableLimits,
    jsonMaxProperties,
    eventStreams,
  });
}

/** The variable bounds; an instance's total must leave room for its largest variable. */
function readVariableLimits(int: Readers['int'], problems: string[]): VariableLimits {
  const d = DEFAULT_VARIABLE_LIMITS;
  const maxBytes = int('BATON_VARIABLE_MAX_BYTES', d.maxBytes, 1024, 64 * 1024 * 1024);
  const maxTotalBytes = int('BATON_VARIABLES_MAX_BYTES', d.maxTotalBytes, 1024, 256 * 1024 * 1024);
  if (maxTotalBytes < maxBytes) problems.push(`BATON_VARIABLES_MAX_BYTES (${maxTotalBytes}) must be at least BATON_VARIABLE_MAX_BYTES (${maxBytes})`);
  return Object.freeze({
    maxBytes,
    maxTotalBytes,
    maxCount: int('BATON_VARIABLES_MAX_COUNT', d.maxCount, 1, 1_000_000),
    maxDepth: d.maxDepth,
    textMaxLength: int('BATON_FORM_TEXT_MAX_LENGTH', d.textMaxLength, 1, 10_000_000),
  });
}

interface Readers {
  int(name: string, fallback: number, min: number, max: number): number;
  url(name: string, protocols: string[], example: string): string | null;
  matching(name: string, pattern: RegExp, what: string): string | null;
}

/** The connector variables: SMTP, Twilio, admin recipients, which connectors run. */
function readConnectors(env: NodeJS.ProcessEnv, problems: string[], { int, url, matching }: Readers): ConnectorsConfig {
  let enabled: ConnectorName[] = [...CONNECTOR_NAMES];
  const listed = env.BATON_CONNECTORS?.trim();
  if (listed) {
    const names = listed === 'none' ? [] : listed.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !CONNECTOR_NAMES.includes(name as ConnectorName));
    if (unknown.length) problems.push(`BATON_CONNECTORS must be "none" or a list of ${CONNECTOR_NAMES.join(', ')}, got "${listed}"`);
    else enabled = CONNECTOR_NAMES.filter((name) => names.includes(name));
  }

  const smtpUrl = url('SMTP_URL', ['smtp:', 'smtps:'], 'smtp://user:password@mail.example.com:587');
  const mailFrom = matching('MAIL_FROM', /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'an e-mail address, optionally as "Name <address>"');
  const adminEmail = matching('ADMIN_EMAIL', EMAIL, 'an e-mail address');
  const adminPhone = matching('ADMIN_PHONE', E164, 'a phone number in E.164 form, e.g. +41791234567');

  const accountSid = matching('TWILIO_ACCOUNT_SID', /^AC[0-9a-fA-F]{32}$/, 'a Twilio Account SID (AC followed by 32 hex digits)');
  const authToken = env.TWILIO_AUTH_TOKEN?.trim() || null;
  const from = matching('TWILIO_FROM', /^(?:\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, 'an E.164 phone number or a Messaging Service SID (MG...)');
  const apiUrl = url('TWILIO_API_URL', ['https:', 'http:'], 'https://api.twilio.com') ?? 'https://api.twilio.com';
  const twilioSet = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'].filter((name) => env[name]?.trim());
  if (twilioSet.length && twilioSet.length < 3) {
    problems.push(`TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM go together: ${twilioSet.join(', ')} set, the others not`);
  }
  const twilio = accountSid && authToken && from ? Object.freeze({ accountSid, authToken, from, apiUrl }) : null;

  return Object.freeze({
    enabled: Object.freeze(enabled) as ConnectorName[],
    twilio,
    smtpUrl,
    mailFrom: mailFrom ?? 'Baton <baton@localhost>',
    adminPhone,
    adminEmail,
    httpTimeoutMs: int('BATON_HTTP_TIMEOUT_MS', 30_000, 100, 600_000),
  });
}
