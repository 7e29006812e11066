/**
 * Secrets: guessing is throttled per account and address without locking anyone out, machine
 * accounts sign in with API tokens that no password guessing slows, an unknown name costs as
 * much as a wrong password, workers reach only their topics, and no secret ever reaches the log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { hashSecret } from '../../server/auth/secrets.ts';
import type { StoredUser } from '../../server/auth/users.ts';
import { DEMO, WORKER, WORKER_TOKEN, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { makeDataDir, removeDataDir, spawnServer, type ServerProcess } from '../helpers/server-process.ts';

interface Answer {
  status: number;
  type: string;
  retryAfter: number;
  body: string;
}

/** A request from a chosen local address of the loopback network (another client), with optional headers and JSON body. */
function requestFrom(
  url: string,
  localAddress: string,
  { method = 'GET', headers = {}, json }: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const request = http.request(url, { method, localAddress, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: (res.headers['content-type'] ?? '').split(';')[0] as string, retryAfter: Number(res.headers['retry-after'] ?? 0), body: text }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (user: string, token: string): Record<string, string> => ({ authorization: `Bearer ${user}:${token}` });
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Asserts a 429 problem with Retry-After and returns the seconds. */
function tooMany(answer: Answer): number {
  assert.equal(answer.status, 429, answer.body);
  assert.equal(answer.type, 'application/problem+json');
  const problem = JSON.parse(answer.body);
  assert.equal(problem.title, 'Too many requests');
  assert.match(problem.detail, /too many failed sign-ins; try again in \d+ s/);
  assert.ok(answer.retryAfter > 0, `Retry-After ${answer.retryAfter}`);
  return answer.retryAfter;
}

Feature('Guessing passwords is slowed down, and locks no one out', () => {
  let t: TestBaton;
  const ATTACKER = '127.0.0.2';
  const SPRAYER = '127.0.0.3';
  before(async () => {
    const users: StoredUser[] = [];
    for (const name of ['bystander', 'timed', 'newcomer']) {
      users.push({ name, passwordHash: await hashSecret(`${name}-password`), tokenHashes: [], groups: [], roles: ['operator'] });
    }
    t = await startBaton({ users });
  });
  after(() => t.close());

  Scenario('someone at one address guesses the password of worker, a machine account', () => {
    const waits: number[] = [];
    const statuses: number[] = [];
    When(`${ATTACKER} sends fifteen wrong passwords for worker, waiting whenever told to`, async () => {
      while (statuses.filter((status) => status === 401).length < 15) {
        const answer = await requestFrom(`${t.url}/api/instances`, ATTACKER, { headers: basic('worker', `guess-${statuses.length}`) });
        statuses.push(answer.status);
        if (answer.status === 429) {
          waits.push(tooMany(answer));
          t.advance(answer.retryAfter * 1000);
        } else assert.equal(answer.status, 401, answer.body);
        // the worker, signing in with its API token from the same address, works throughout
        const fetched = await requestFrom(`${t.url}/api/external-tasks/fetch-and-lock`, ATTACKER, {
          method: 'POST',
          headers: bearer('worker', WORKER_TOKEN),
          json: { workerId: 'salary-worker', maxTasks: 1, topics: [{ topicName: 'salary.base', lockDuration: 1000 }] },
        });
        assert.equal(fetched.status, 200, fetched.body);
      }
    });
    Then('the first five cost nothing, then each wait doubles: 1, 2, 4 … seconds', () => {
      assert.deepEqual(statuses.slice(0, 6), [401, 401, 401, 401, 401, 401]);
      assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    });
    Then(`from ${ATTACKER} even the right password waits its turn (429 without a check), on every way in`, async () => {
      const wait = tooMany(await requestFrom(`${t.url}/engine-rest/version`, ATTACKER, { headers: basic('worker', 'worker') }));
      assert.equal(wait, 512);
      tooMany(await requestFrom(`${t.url}/api/session`, ATTACKER, { method: 'POST', json: { user: 'worker', password: 'worker' } }));
      t.advance(wait * 1000);
      const answer = await requestFrom(`${t.url}/engine-rest/version`, ATTACKER, { headers: basic('worker', 'worker') });
      assert.equal(answer.status, 200, answer.body);
    });
    Then('the right password from another address signs in at once, on both APIs and the sign-in form', async () => {
      await t.as(WORKER).get('/api/instances').expect(403);
      await t.as(WORKER).get('/engine-rest/version').expect(200);
      const form = await requestFrom(`${t.url}/api/session`, '127.0.0.4', { method: 'POST', json: { user: 'worker', password: 'worker' } });
      assert.equal(form.status, 200, form.body);
    });
    Then('a wrong token is 401, never 429 for the account: tokens are not password-throttled', async () => {
      for (let i = 0; i < 8; i++) {
        const answer = await requestFrom(`${t.url}/api/instances`, ATTACKER, { headers: bearer('worker', `token-guess-${i}`) });
        assert.equal(answer.status, 401, answer.body);
      }
      const answer = await requestFrom(`${t.url}/engine-rest/version`, ATTACKER, { headers: bearer('worker', WORKER_TOKEN) });
      assert.equal(answer.status, 200, answer.body);
    });
    Then(`only the work is bounded: after twenty wrong tokens ${ATTACKER} gets one token check a second, and worker's token still works`, async () => {
      let wrong = 8;
      for (;;) {
        const answer = await requestFrom(`${t.url}/api/instances`, ATTACKER, { headers: bearer(`name-${wrong}`, 'not-a-token') });
        if (answer.status === 429) {
          assert.equal(tooMany(answer), 1);
          break;
        }
        assert.equal(answer.status, 401, answer.body);
        wrong++;
      }
      assert.equal(wrong, 21, 'the twenty-first wrong token was still checked');
      const answer = await requestFrom(`${t.url}/engine-rest/version`, ATTACKER, { headers: bearer('worker', WORKER_TOKEN) });
      assert.equal(answer.status, 200, answer.body);
    });
  });

  Scenario('someone at one address tries fifty names (a password spray)', () => {
    When(`${SPRAYER} sends 50 wrong sign-ins with different names`, async function (this: Mocha.Context) {
      this.timeout(120_000);
      for (let i = 0; i < 50; i++) {
        const answer = await requestFrom(`${t.url}/api/instances`, SPRAYER, { headers: basic(`name-${i}`, 'wrong') });
        assert.equal(answer.status, 401, `attempt ${i + 1}: ${answer.body}`);
      }
    });
    Then(`a real user's right password from ${SPRAYER} still signs in at once`, async () => {
      const answer = await requestFrom(`${t.url}/api/session`, SPRAYER, { method: 'POST', json: { user: 'bystander', password: 'bystander-password' } });
      assert.equal(answer.status, 200, answer.body);
    });
    Then(`from now on ${SPRAYER} gets one check a second for accounts not signed in from it: the next guess waits a second`, async () => {
      assert.equal(tooMany(await requestFrom(`${t.url}/api/instances`, SPRAYER, { headers: basic('name-50', 'wrong') })), 1);
      assert.equal(tooMany(await requestFrom(`${t.url}/api/session`, SPRAYER, { method: 'POST', json: { user: 'newcomer', password: 'newcomer-password' } })), 1);
    });
    Then('bystander, who signed in from there, is not slowed; nor is anyone at another address', async () => {
      for (let i = 0; i < 3; i++) {
        const answer = await requestFrom(`${t.url}/api/session`, SPRAYER, { method: 'POST', json: { user: 'bystander', password: 'bystander-password' } });
        assert.equal(answer.status, 200, answer.body);
      }
      await t.as({ user: 'newcomer', password: 'newcomer-password' }).get('/api/instances').expect(200);
    });
    Then(`a second later, newcomer signs in from ${SPRAYER} too`, async () => {
      t.advance(1000);
      const answer = await requestFrom(`${t.url}/api/session`, SPRAYER, { method: 'POST', json: { user: 'newcomer', password: 'newcomer-password' } });
      assert.equal(answer.status, 200, answer.body);
    });
  });

  Scenario('an unknown name costs as much as a wrong password', () => {
    Then('the medians of both differ by less than a factor of four', async () => {
      const time = async (user: string): Promise<number> => {
        const started = process.hrtime.bigint();
        await t.as({ user, password: 'wrong' }).get('/api/processes').expect(401);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 4; i++) {
        known.push(await time('timed'));
        unknown.push(await time(`nobody-${i}`));
      }
      const ratio = median(known) / median(unknown);
      assert.ok(ratio > 0.25 && ratio < 4, `known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
    });
  });
});

Feature('Behind a reverse proxy, the client address comes from X-Forwarded-For only when the proxy is trusted', () => {
  const guess = async (t: TestBaton, forwardedFor: string, password: string): Promise<Answer> =>
    requestFrom(`${t.url}/api/instances`, '127.0.0.1', { headers: { ...basic('mary', password), 'x-forwarded-for': forwardedFor } });

  Scenario('BATON_TRUST_PROXY=1: one proxy in front, its X-Forwarded-For names the client', () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton({ env: { BATON_TRUST_PROXY: '1' } });
    });
    after(() => t.close());
    When('10.0.0.66 guesses mary\'s password seven times, prepending a forged address of its own', async () => {
      for (let i = 0; i < 7; i++) {
        const answer = await guess(t, '10.0.0.7, 10.0.0.66', `guess-${i}`);
        assert.ok([401, 429].includes(answer.status), answer.body);
      }
    });
    Then('10.0.0.66 must wait even with the right password; mary at 10.0.0.7 signs in at once', async () => {
      tooMany(await guess(t, '10.0.0.66', 'mary'));
      assert.equal((await guess(t, '10.0.0.7', 'mary')).status, 200);
    });
  });

  Scenario('without BATON_TRUST_PROXY the header is ignored: the socket address counts', () => {
    let t: TestBaton;
    before(async () => {
      t = await startBaton();
    });
    after(() => t.close());
    When('seven guesses come from one socket, each claiming another address', async () => {
      for (let i = 0; i < 7; i++) await guess(t, `10.0.1.${i}`, `guess-${i}`);
    });
    Then('a fresh claimed address does not get round the wait', async () => {
      tooMany(await guess(t, '10.0.2.1', 'mary'));
    });
  });
});

Feature('Workers reach only the topics they are allowed', () => {
  let t: TestBaton;
  const PAYROLL = { user: 'payroll', password: 'payroll-password' };
  const PAYMENTS = bpmn(
    'payments',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Base" />
    <bpmn:serviceTask id="Base" camunda:type="external" camunda:topic="salary.base" />
    <bpmn:sequenceFlow id="f2" sourceRef="Base" targetRef="Pay" />
    <bpmn:serviceTask id="Pay" camunda:type="external" camunda:topic="bank.transfer" />
    <bpmn:sequenceFlow id="f3" sourceRef="Pay" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );
  before(async () => {
    const payroll: StoredUser = { name: 'payroll', passwordHash: await hashSecret(PAYROLL.password), tokenHashes: [], groups: [], roles: ['worker'], topics: ['salary.base'] };
    t = await startBaton({ users: [payroll] });
    await deploy(t.as(DEMO), PAYMENTS, 'payments.bpmn');
  });
  after(() => t.close());

  Scenario('payroll may work salary.base, not bank.transfer', () => {
    let instanceId: string;
    Given('a payment waits at salary.base', async () => {
      instanceId = (await t.as(DEMO).post('/api/processes/payments/instances').send({}).expect(201)).body.id;
    });
    Then('payroll may not even ask for bank.transfer tasks, on either API', async () => {
      const ask = { workerId: 'p', maxTasks: 1, topics: [{ topicName: 'bank.transfer', lockDuration: 60_000 }] };
      const res = await t.as(PAYROLL).post('/api/external-tasks/fetch-and-lock').send(ask).expect(403);
      assert.equal(res.body.detail, 'payroll may not work external tasks of topic bank.transfer');
      await t.as(PAYROLL).post('/engine-rest/external-task/fetchAndLock').send(ask).expect(403);
    });
    When('payroll fetches and completes salary.base', async () => {
      const [task] = (await t.as(PAYROLL).post('/api/external-tasks/fetch-and-lock')
        .send({ workerId: 'p', maxTasks: 1, topics: [{ topicName: 'salary.base', lockDuration: 60_000 }] }).expect(200)).body;
      assert.equal(task.instanceId, instanceId);
      await t.as(PAYROLL).post(`/api/external-tasks/${task.id}/complete`).send({ workerId: 'p' }).expect(204);
    });
    Then('the bank.transfer task another worker holds is out of its reach on every endpoint', async () => {
      const [task] = (await t.as(WORKER).post('/api/external-tasks/fetch-and-lock')
        .send({ workerId: 'p', maxTasks: 1, topics: [{ topicName: 'bank.transfer', lockDuration: 60_000 }] }).expect(200)).body;
      for (const action of ['complete', 'failure', 'bpmn-error', 'extend-lock', 'unlock']) {
        const res = await t.as(PAYROLL).post(`/api/external-tasks/${task.id}/${action}`).send({ workerId: 'p', errorCode: 'E', newDuration: 10 });
        assert.equal(res.status, 403, `${action}: ${res.text}`);
      }
      for (const action of ['complete', 'failure', 'bpmnError', 'extendLock', 'unlock']) {
        const res = await t.as(PAYROLL).post(`/engine-rest/external-task/${task.id}/${action}`).send({ workerId: 'p', errorCode: 'E', newDuration: 10 });
        assert.equal(res.status, 403, `engine-rest ${action}: ${res.text}`);
      }
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'running');
      assert.equal(instance.body.externalTasks[0].lockedBy, 'p');
      assert.equal(instance.body.externalTasks[0].topic, 'bank.transfer');
    });
  });
});

Feature('Secrets never reach the log', () => {
  let server: ServerProcess | undefined;
  let dataDir: string;
  const SECRETS = { password: 'Pw-0f-Ann-7731', token: 'Tok-9c1e-Ann-4410', smtp: 'Smtp-Pass-5521', twilio: 'Twilio-Token-8812', wrong: 'Wrong-Guess-2290' };
  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  Scenario('a server with SMTP and Twilio credentials, signed in and guessed at', () => {
    Given('Baton runs with a users file, SMTP_URL and TWILIO_AUTH_TOKEN', async () => {
      dataDir = makeDataDir();
      const usersFile = path.join(dataDir, 'users.json');
      const ann = { name: 'ann', passwordHash: await hashSecret(SECRETS.password), tokenHashes: [await hashSecret(SECRETS.token)], roles: ['admin'], groups: [] };
      fs.writeFileSync(usersFile, JSON.stringify({ users: [ann] }));
      server = await spawnServer({
        dataDir,
        demo: 'off',
        env: {
          BATON_USERS_FILE: usersFile,
          BATON_LOG_LEVEL: 'trace',
          SMTP_URL: `smtp://mailer:${SECRETS.smtp}@127.0.0.1:1`,
          TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
          TWILIO_AUTH_TOKEN: SECRETS.twilio,
          TWILIO_FROM: '+41790000000',
          TWILIO_API_URL: 'http://127.0.0.1:1',
        },
      });
    });
    When('ann signs in with her password and her token, and someone guesses', async () => {
      const base = server!.url;
      const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
      assert.equal((await fetch(`${base}/api/instances`, { headers: { authorization: basic('ann', SECRETS.password) } })).status, 200);
      assert.equal((await fetch(`${base}/api/instances`, { headers: { authorization: `Bearer ann:${SECRETS.token}` } })).status, 200);
      assert.equal((await fetch(`${base}/api/instances`, { headers: { authorization: basic('ann', SECRETS.wrong) } })).status, 401);
      assert.equal((await fetch(`${base}/api/instances`, { headers: { authorization: basic(SECRETS.wrong, SECRETS.wrong) } })).status, 401);
      assert.equal((await fetch(`${base}/api/instances?token=${SECRETS.wrong}`, { headers: { authorization: basic('ann', SECRETS.password) } })).status, 200);
    });
    Then('after a clean stop, neither stdout nor stderr holds any of the secrets, but the requests were logged', async () => {
      await server!.stop();
      const output = [...server!.stdout, ...server!.stderr].join('\n');
      assert.ok(server!.logs().filter((line) => line.msg === 'request').length >= 5, 'the requests were logged');
      for (const [what, secret] of Object.entries(SECRETS)) {
        assert.ok(!output.includes(secret), `the ${what} is in the log`);
      }
      assert.ok(!output.includes(Buffer.from(`ann:${SECRETS.password}`).toString('base64')), 'the Basic header is in the log');
    });
  });
});
