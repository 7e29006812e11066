import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, readConfig } from '../../server/config.ts';

const ROOT = path.join(import.meta.dirname, '../..');

/** The ConfigError readConfig throws for an environment; fails when it throws nothing else. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`readConfig accepted ${JSON.stringify(env)}`);
}

Feature('Baton reads its configuration from the environment', () => {
  Scenario('nothing set but the demo users', () => {
    Then('the defaults apply', () => {
      const config = readConfig({ BATON_DEMO: 'users' });
      assert.deepEqual(config, {
        port: 3000,
        host: '0.0.0.0',
        store: { kind: 'sqlite', dataDir: path.resolve('./data') },
        usersFile: null,
        demo: 'users',
        logLevel: 'info',
        timerIntervalMs: 1000,
        bodyLimitBytes: 5 * 1024 * 1024,
        publicUrl: 'http://localhost:3000',
        retryPolicy: { retries: 3, intervalsMs: [10_000] },
        scriptFormats: [],
        liveEngines: 64,
        trustProxy: 0,
        variableLimits: { maxBytes: 256 * 1024, maxCount: 1000, maxTotalBytes: 4 * 1024 * 1024, maxDepth: 32, textMaxLength: 4000 },
        jsonMaxProperties: 100_000,
        eventStreams: { perUser: 20, total: 2000 },
        expressionLimits: { maxSteps: 100_000, timeoutMs: 200, maxMemoryMb: 64, maxResultChars: 1_000_000 },
        connectors: {
          enabled: ['sms', 'email', 'http'],
          twilio: null,
          smtpUrl: null,
          mailFrom: 'Baton <baton@localhost>',
          adminPhone: null,
          adminEmail: null,
          httpTimeoutMs: 30_000,
        },
      });
      assert.ok(Object.isFrozen(config));
      assert.ok(Object.isFrozen(config.connectors));
    });
  });

  Scenario('every variable set', () => {
    Then('each is read, paths resolved against the working directory', () => {
      const config = readConfig({
        PORT: '8080',
        BATON_HOST: '127.0.0.1',
        BATON_DATA_DIR: 'var/baton',
        BATON_USERS_FILE: 'etc/users.json',
        BATON_DEMO: 'off',
        BATON_LOG_LEVEL: 'debug',
        BATON_TIMER_INTERVAL_MS: '250',
        BATON_BODY_LIMIT_BYTES: '2048',
        BATON_PUBLIC_URL: 'https://baton.example.com/',
        BATON_RETRY_CYCLE: 'PT5S,PT1M,PT10M',
        BATON_CONNECTORS: 'email, http',
        BATON_HTTP_TIMEOUT_MS: '5000',
        BATON_SCRIPT_FORMATS: 'feel, JUEL',
        BATON_LIVE_ENGINES: '0',
        BATON_TRUST_PROXY: '2',
        BATON_VARIABLE_MAX_BYTES: '65536',
        BATON_VARIABLES_MAX_COUNT: '200',
        BATON_VARIABLES_MAX_BYTES: '1048576',
        BATON_FORM_TEXT_MAX_LENGTH: '500',
        BATON_JSON_MAX_PROPERTIES: '5000',
        BATON_EVENT_STREAMS_PER_USER: '5',
        BATON_EVENT_STREAMS_MAX: '100',
        BATON_EXPRESSION_MAX_STEPS: '5000',
        BATON_EXPRESSION_TIMEOUT_MS: '50',
        BATON_EXPRESSION_MAX_MEMORY_MB: '32',
        BATON_EXPRESSION_MAX_RESULT_CHARS: '20000',
        SMTP_URL: 'smtps://baton:s3cret@mail.example.com',
        MAIL_FROM: 'Payroll <payroll@example.com>',
        ADMIN_EMAIL: 'ops@example.com',
        ADMIN_PHONE: '+41791234567',
        TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`,
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: 'http://127.0.0.1:9999',
      });
      assert.deepEqual(config, {
        port: 8080,
        host: '127.0.0.1',
        store: { kind: 'sqlite', dataDir: path.resolve('var/baton') },
        usersFile: path.resolve('etc/users.json'),
        demo: 'off',
        logLevel: 'debug',
        timerIntervalMs: 250,
        bodyLimitBytes: 2048,
        publicUrl: 'https://baton.example.com',
        retryPolicy: { retries: 4, intervalsMs: [5000, 60_000, 600_000] },
        scriptFormats: ['feel', 'juel'],
        liveEngines: 0,
        trustProxy: 2,
        variableLimits: { maxBytes: 65_536, maxCount: 200, maxTotalBytes: 1_048_576, maxDepth: 32, textMaxLength: 500 },
        jsonMaxProperties: 5000,
        eventStreams: { perUser: 5, total: 100 },
        expressionLimits: { maxSteps: 5000, timeoutMs: 50, maxMemoryMb: 32, maxResultChars: 20_000 },
        connectors: {
          enabled: ['email', 'http'],
          twilio: { accountSid: `AC${'a1'.repeat(16)}`, authToken: 'token', from: '+15005550006', apiUrl: 'http://127.0.0.1:9999' },
          smtpUrl: 'smtps://baton:s3cret@mail.example.com',
          mailFrom: 'Payroll <payroll@example.com>',
          adminPhone: '+41791234567',
          adminEmail: 'ops@example.com',
          httpTimeoutMs: 5000,
        },
      });
    });

    Then('MONGODB_URI picks the MongoDB store', () => {
      const config = readConfig({ BATON_DEMO: 'all', MONGODB_URI: 'mongodb+srv://db.example.com/baton' });
      assert.deepEqual(config.store, { kind: 'mongodb', uri: 'mongodb+srv://db.example.com/baton' });
      assert.equal(config.demo, 'all');
    });
  });

  Scenario('variable limits that contradict each other', () => {
    Then('an instance total below the size of one variable is refused, naming both', () => {
      assert.match(
        configError({ BATON_DEMO: 'users', BATON_VARIABLE_MAX_BYTES: '100000', BATON_VARIABLES_MAX_BYTES: '50000' }).message,
        /BATON_VARIABLES_MAX_BYTES \(50000\) must be at least BATON_VARIABLE_MAX_BYTES \(100000\)/,
      );
      assert.match(configError({ BATON_DEMO: 'users', BATON_EVENT_STREAMS_PER_USER: '0' }).message, /BATON_EVENT_STREAMS_PER_USER must be an integer from 1/);
    });
  });

  Scenario('demo users off and no users file', () => {
    Then('it is refused: no one could sign in', () => {
      assert.equal(
        configError({}).message,
        'Invalid configuration:\n- BATON_USERS_FILE is required when BATON_DEMO is off (no user could sign in)',
      );
      assert.match(configError({ BATON_DEMO: 'off' }).message, /BATON_USERS_FILE is required/);
    });
  });

  Scenario('bad values', () => {
    Then('each bad variable is named, all in one error', () => {
      const error = configError({
        PORT: 'eighty',
        BATON_DEMO: 'bogus',
        MONGODB_URI: 'http://db.example.com',
        BATON_LOG_LEVEL: 'loud',
        BATON_TIMER_INTERVAL_MS: '5',
        BATON_BODY_LIMIT_BYTES: 'lots',
      });
      assert.deepEqual(error.message.split('\n'), [
        'Invalid configuration:',
        '- PORT must be an integer from 0 to 65535, got "eighty"',
        '- BATON_DEMO must be one of all, users, off, got "bogus"',
        '- BATON_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
        '- BATON_TIMER_INTERVAL_MS must be an integer from 10 to 3600000, got "5"',
        '- BATON_BODY_LIMIT_BYTES must be an integer from 1024 to 104857600, got "lots"',
        '- MONGODB_URI must start with mongodb:// or mongodb+srv://',
        // BATON_DEMO fell back to off and there is no users file
        '- BATON_USERS_FILE is required when BATON_DEMO is off (no user could sign in)',
      ]);
    });

    Then('PORT out of range or not a whole number is refused', () => {
      for (const port of ['-1', '65536', '3000.5', 'abc', '80 80']) {
        assert.match(configError({ BATON_DEMO: 'users', PORT: port }).message, new RegExp(`PORT must be an integer from 0 to 65535, got "${port}"`), port);
      }
    });

    Then('PORT must be written in decimal digits', () => {
      // Number() alone would take " " as 0 (a random port) and "0x50" as 80
      for (const port of [' ', '0x50', '1e3']) {
        assert.match(configError({ BATON_DEMO: 'users', PORT: port }).message, /PORT must be an integer/, JSON.stringify(port));
      }
    });

    Then('BATON_DEMO is one of all, users, off', () => {
      for (const demo of ['bogus', 'ALL', 'on', 'true']) {
        assert.match(configError({ BATON_DEMO: demo, BATON_USERS_FILE: 'users.json' }).message, new RegExp(`BATON_DEMO must be one of all, users, off, got "${demo}"`));
      }
    });

    Then('connector settings are checked, and a bad SMTP_URL is not echoed (it may hold a password)', () => {
      const error = configError({
        BATON_DEMO: 'users',
        ADMIN_PHONE: '079 123 45 67',
        TWILIO_FROM: 'Baton',
        TWILIO_ACCOUNT_SID: 'AC123',
        SMTP_URL: 'http://user:hunter2@mail',
        ADMIN_EMAIL: 'ops',
        MAIL_FROM: 'nobody',
        BATON_PUBLIC_URL: 'baton.example.com',
        BATON_RETRY_CYCLE: 'R0/PT1S',
        BATON_CONNECTORS: 'sms,fax',
      });
      assert.deepEqual(error.message.split('\n').slice(1).sort(), [
        '- ADMIN_EMAIL must be an e-mail address, got "ops"',
        '- ADMIN_PHONE must be a phone number in E.164 form, e.g. +41791234567, got "079 123 45 67"',
        '- BATON_CONNECTORS must be "none" or a list of sms, email, http, got "sms,fax"',
        '- BATON_PUBLIC_URL must be a http:// or https:// URL such as https://baton.example.com',
        '- BATON_RETRY_CYCLE: "R0/PT1S": the number of attempts must be from 1 to 100',
        '- MAIL_FROM must be an e-mail address, optionally as "Name <address>", got "nobody"',
        '- SMTP_URL must be a smtp:// or smtps:// URL such as smtp://user:password@mail.example.com:587',
        '- TWILIO_ACCOUNT_SID must be a Twilio Account SID (AC followed by 32 hex digits), got "AC123"',
        '- TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM go together: TWILIO_ACCOUNT_SID, TWILIO_FROM set, the others not',
        '- TWILIO_FROM must be an E.164 phone number or a Messaging Service SID (MG...), got "Baton"',
      ]);
      assert.doesNotMatch(error.message, /hunter2/);
    });

    Then('retry cycles are read as Camunda writes them', () => {
      assert.deepEqual(readConfig({ BATON_DEMO: 'users', BATON_RETRY_CYCLE: 'R5/PT1M' }).retryPolicy, { retries: 5, intervalsMs: [60_000] });
      for (const cycle of ['R3', 'R3/10s', 'PT1X', 'R3/P40D']) assert.match(configError({ BATON_DEMO: 'users', BATON_RETRY_CYCLE: cycle }).message, /BATON_RETRY_CYCLE: /, cycle);
    });

    Then('MONGODB_URI must be a MongoDB connection string', () => {
      for (const uri of ['localhost:27017', 'postgres://db', 'mongodb:/db']) {
        assert.match(configError({ BATON_DEMO: 'users', MONGODB_URI: uri }).message, /MONGODB_URI must start with mongodb:\/\/ or mongodb\+srv:\/\//, uri);
      }
    });
  });

  Scenario('npm start with a bad value', () => {
    Then('exits with code 2 before listening, naming the variable', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-config-'));
      // only what node needs, so no BATON_* of the developer's shell leaks in
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', BATON_DEMO: 'bogus', PORT: '0', BATON_DATA_DIR: dataDir };
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 2, `stderr: ${stderr}`);
      assert.match(stderr, /^Invalid configuration:\n/);
      assert.match(stderr, /- BATON_DEMO must be one of all, users, off, got "bogus"/);
      assert.doesNotMatch(stdout, /listening/i);
    });
  });
});
