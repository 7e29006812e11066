import path from 'node:path';

/** Which demo parts `npm start` brings up. */
export type DemoMode = 'all' | 'users' | 'off';

/** Where instances live: the embedded SQLite store (default) or MongoDB (MONGODB_URI). */
export type StoreConfig =
  | { kind: 'sqlite'; dataDir: string }
  | { kind: 'mongodb'; uri: string };

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
}

/** Thrown when the environment holds bad values; its message names every bad variable. */
export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

  const port = int('PORT', 3000, 0, 65535);
  const demo = oneOf<DemoMode>('BATON_DEMO', ['all', 'users', 'off'], 'off');
  const logLevel = oneOf('BATON_LOG_LEVEL', LOG_LEVELS, 'info');
  const timerIntervalMs = int('BATON_TIMER_INTERVAL_MS', 1000, 10, 3_600_000);
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
  });
}
