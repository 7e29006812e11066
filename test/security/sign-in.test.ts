/**
 * Secrets: failed sign-ins are limited per user and per address, an unknown name costs as much
 * as a wrong password, workers reach only their topics, and no secret ever reaches the log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { hashSecret } from '../../server/auth/secrets.ts';
import type { StoredUser } from '../../server/auth/users.ts';
import { DEMO, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { makeDataDir, removeDataDir, spawnServer, type ServerProcess } from '../helpers/server-process.ts';

/** GET with Basic credentials from a chosen local address of the loopback network. */
function getFrom(url: string, localAddress: string, user: string, password: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { localAddress, auth: `${user}:${password}` }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    request.on('error', reject);
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

Feature('Failed sign-ins are limited', () => {
  let t: TestBaton;
  before(async () => {
    const users: StoredUser[] = [];
    for (const name of ['victim', 'bystander', 'timed']) {
      users.push({ name, passwordHash: await hashSecret(`${name}-password`), tokenHashes: [], groups: [], roles: ['operator'] });
    }
    t = await startBaton({ users });
  });
  after(() => t.close());

  Scenario('someone guesses the password of one user', () => {
    When('ten wrong passwords were sent for victim', async () => {
      for (let i = 0; i < 10; i++) await t.as({ user: 'victim', password: `guess-${i}` }).get('/api/instances').expect(401);
    });
    Then('the next attempt is 429 problem+json with Retry-After, even with the right password', async () => {
      for (const password of ['guess-11', 'victim-password']) {
        const res = await t.as({ user: 'victim', password }).get('/api/instances');
        assert.equal(res.status, 429, res.text);
        assert.equal(res.type, 'application/problem+json');
        assert.equal(res.body.title, 'Too many requests');
        assert.match(res.body.detail, /too many failed sign-ins; try again in \d+ s/);
        const wait = Number(res.headers['retry-after']);
        assert.ok(wait > 0 && wait <= 15 * 60, `Retry-After ${res.headers['retry-after']}`);
      }
    });
    Then('through /engine-rest too, and a bearer token does not get round it', async () => {
      assert.equal((await t.as({ user: 'victim', password: 'victim-password' }).get('/engine-rest/version')).status, 429);
      const bearer = await t.anonymous().get('/api/instances').set('authorization', 'Bearer victim:some-token');
      assert.equal(bearer.status, 429);
    });
    Then('another user from the same address still signs in', async () => {
      await t.as({ user: 'bystander', password: 'bystander-password' }).get('/api/instances').expect(200);
    });
  });

  Scenario('someone tries many names from one address', () => {
    When('127.0.0.2 sends 50 wrong sign-ins with different names', async function (this: Mocha.Context) {
      this.timeout(120_000);
      for (let i = 0; i < 50; i++) {
        const res = await getFrom(`${t.url}/api/instances`, '127.0.0.2', `name-${i}`, 'wrong');
        assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body}`);
      }
    });
    Then('127.0.0.2 gets 429 even for a real user, while 127.0.0.1 signs in', async () => {
      const limited = await getFrom(`${t.url}/api/instances`, '127.0.0.2', 'bystander', 'bystander-password');
      assert.equal(limited.status, 429, limited.body);
      assert.ok(Number(limited.headers['retry-after']) > 0);
      await t.as({ user: 'bystander', password: 'bystander-password' }).get('/api/instances').expect(200);
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
