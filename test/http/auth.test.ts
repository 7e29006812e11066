import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Response } from 'supertest';
import { hashSecret } from '../../server/auth/secrets.ts';
import { loadUsersFile, type StoredUser } from '../../server/auth/users.ts';
import { DEMO, MARY, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const CHALLENGE = 'Basic realm="baton", charset="UTF-8"';

/** Asserts a 401 problem with the Basic challenge and returns its detail. */
function unauthorized(res: Response): string {
  assert.equal(res.status, 401, `expected 401, got ${res.status}: ${res.text}`);
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.headers['www-authenticate'], CHALLENGE);
  assert.equal(res.body.title, 'Unauthorized');
  assert.equal(res.body.status, 401);
  return res.body.detail;
}

/** Asserts a 403 problem and returns its detail. */
function forbidden(res: Response): string {
  assert.equal(res.status, 403, `expected 403, got ${res.status}: ${res.text}`);
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.body.title, 'Forbidden');
  assert.equal(res.body.status, 403);
  return res.body.detail;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** An approval waiting for the managers group. */
const APPROVAL = bpmn(
  'approval',
  `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" name="Approve" camunda:candidateGroups="managers" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="Approved" />
    <bpmn:endEvent id="Approved" />`,
);

Feature('Who is calling: Basic passwords and Bearer tokens', () => {
  let t: TestBaton;
  before(async () => {
    const olga: StoredUser = {
      name: 'olga',
      passwordHash: await hashSecret('olga-password'),
      tokenHashes: [await hashSecret('s3cret-token')],
      groups: ['sales'],
      roles: ['user'],
    };
    const annLee: StoredUser = {
      name: 'ann.lee',
      passwordHash: await hashSecret('ann-password'),
      tokenHashes: [await hashSecret('s3cret-token')],
      groups: [],
      roles: ['user'],
    };
    t = await startBaton({ users: [olga, annLee] });
  });
  after(() => t.close());

  Scenario('Basic authentication', () => {
    Then('the right password signs in', async () => {
      const res = await t.as(DEMO).get('/api/processes').expect(200);
      assert.deepEqual(res.body, []);
      await t.as(MARY).get('/api/processes').expect(200);
    });

    Then('a wrong password, an unknown user or a malformed header is 401', async () => {
      assert.equal(unauthorized(await t.as({ user: 'demo', password: 'Demo' }).get('/api/processes')), 'invalid credentials');
      assert.equal(unauthorized(await t.as({ user: 'nobody', password: 'demo' }).get('/api/processes')), 'invalid credentials');
      assert.equal(unauthorized(await t.as({ user: 'demo', password: '' }).get('/api/processes')), 'invalid credentials');
      const malformed = [
        'Basic',
        'Basic ',
        'Basic !!!not-base64!!!',
        `Basic ${Buffer.from('demo-without-colon').toString('base64')}`,
        `Digest ${Buffer.from('demo:demo').toString('base64')}`,
        'demo:demo',
        `Basic ${'A'.repeat(5000)}`,
      ];
      for (const header of malformed) {
        const res = await t.anonymous().get('/api/processes').set('Authorization', header);
        assert.equal(unauthorized(res), 'invalid credentials', header.slice(0, 40));
      }
    });

    Then('a password is not a token', async () => {
      unauthorized(await t.anonymous().get('/api/processes').set('Authorization', 'Bearer demo:demo'));
      unauthorized(await t.anonymous().get('/api/processes').set('Authorization', 'Bearer olga:olga-password'));
    });
  });

  Scenario('Bearer tokens', () => {
    Then('`Bearer <name>:<token>` signs in', async () => {
      const res = await t.anonymous().get('/api/processes').set('Authorization', 'Bearer olga:s3cret-token');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, []);
      const again = await t.anonymous().get('/api/instances').set('Authorization', 'Bearer olga:s3cret-token').expect(200);
      assert.equal(again.body.total, 0);
    });

    Then('a wrong token, another user\'s name or a token without a name is 401', async () => {
      for (const header of ['Bearer olga:s3cret-tokeN', 'Bearer olga:', 'Bearer demo:s3cret-token', 'Bearer s3cret-token', 'Bearer :s3cret-token', 'Bearer']) {
        assert.equal(unauthorized(await t.anonymous().get('/api/processes').set('Authorization', header)), 'invalid credentials', header);
      }
    });

    Then('a user whose name has a dot signs in with a token too', async () => {
      // names may hold dots (and @), so the name and the token are separated by a colon
      await t.anonymous().get('/api/processes').set('Authorization', basic('ann.lee', 'ann-password')).expect(200);
      const res = await t.anonymous().get('/api/processes').set('Authorization', 'Bearer ann.lee:s3cret-token');
      assert.equal(res.status, 200, res.text);
      unauthorized(await t.anonymous().get('/api/processes').set('Authorization', 'Bearer ann.lee:wrong-token'));
    });

    Then('a token is not a password', async () => {
      unauthorized(await t.anonymous().get('/api/processes').set('Authorization', basic('olga', 's3cret-token')));
      await t.anonymous().get('/api/processes').set('Authorization', basic('olga', 'olga-password')).expect(200);
    });
  });

  Scenario('/health is open', () => {
    Then('it answers without credentials, and with wrong ones', async () => {
      const res = await t.anonymous().get('/health').expect(200);
      assert.deepEqual(res.body, { status: 'ok', connectors: { sms: 'off', email: 'off', http: 'off' } });
      assert.equal(res.headers['www-authenticate'], undefined);
      await t.anonymous().get('/health').set('Authorization', basic('demo', 'wrong')).expect(200);
    });
  });

  Scenario('every /api endpoint needs credentials', () => {
    const endpoints: [method: 'get' | 'post', path: string][] = [
      ['post', '/api/deployments'],
      ['get', '/api/processes'],
      ['get', '/api/processes/approval'],
      ['get', '/api/processes/approval/xml'],
      ['post', '/api/processes/approval/instances'],
      ['get', '/api/instances'],
      ['get', '/api/instances/some-id'],
      ['get', '/api/instances/some-id/history'],
      ['post', '/api/instances/some-id/cancel'],
      ['get', '/api/tasks'],
      ['get', '/api/tasks/some-id'],
      ['post', '/api/tasks/some-id/claim'],
      ['post', '/api/tasks/some-id/unclaim'],
      ['post', '/api/tasks/some-id/complete'],
      ['post', '/api/external-tasks/fetch-and-lock'],
      ['post', '/api/external-tasks/some-id/complete'],
      ['post', '/api/external-tasks/some-id/failure'],
      ['post', '/api/external-tasks/some-id/bpmn-error'],
      ['post', '/api/external-tasks/some-id/extend-lock'],
      ['post', '/api/external-tasks/some-id/unlock'],
      ['post', '/api/messages'],
      ['get', '/api/incidents'],
      ['post', '/api/incidents/some-id/retry'],
      ['get', '/api/no-such-endpoint'],
    ];

    Then('each answers 401 with a Basic challenge, before looking at the body', async () => {
      for (const [method, path] of endpoints) {
        const res = await t.anonymous()[method](path).set('Content-Type', 'application/json').send('{not json');
        assert.equal(unauthorized(res), 'authentication required', `${method.toUpperCase()} ${path}`);
        assert.equal(res.body.instance, path);
      }
    });
  });
});

Feature('What each role may do', () => {
  let t: TestBaton;
  let instanceId: string;
  let taskId: string;
  before(async () => {
    const sam: StoredUser = { name: 'sam', passwordHash: await hashSecret('sam-password'), tokenHashes: [], groups: ['sales'], roles: ['user'] };
    const otto: StoredUser = { name: 'otto', passwordHash: await hashSecret('otto-password'), tokenHashes: [], groups: [], roles: ['operator'] };
    t = await startBaton({ users: [sam, otto] });
    await deploy(t.as(DEMO), APPROVAL, 'approval.bpmn');
  });
  after(() => t.close());

  const SAM = { user: 'sam', password: 'sam-password' };
  const OTTO = { user: 'otto', password: 'otto-password' };

  /** the task is still open, unassigned, and the instance waits on it */
  const stillOpen = async (): Promise<void> => {
    const task = await t.as(MARY).get(`/api/tasks/${taskId}`).expect(200);
    assert.equal(task.body.assignee, null);
    const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
    assert.equal(instance.body.status, 'running');
  };

  Scenario('a task for the managers group', () => {
    Given('demo starts an approval', async () => {
      const res = await t.as(DEMO).post('/api/processes/approval/instances').send({}).expect(201);
      instanceId = res.body.id;
      const tasks = await t.as(MARY).get(`/api/tasks?instanceId=${instanceId}`).expect(200);
      assert.equal(tasks.body.items.length, 1);
      taskId = tasks.body.items[0].id;
      assert.deepEqual(tasks.body.items[0].candidateGroups, ['managers']);
    });

    Then('worker and sam (sales) may neither see, claim nor complete it', async () => {
      for (const who of [WORKER, SAM]) {
        forbidden(await t.as(who).get(`/api/tasks/${taskId}`));
        forbidden(await t.as(who).post(`/api/tasks/${taskId}/claim`));
        const complete = forbidden(await t.as(who).post(`/api/tasks/${taskId}/complete`).send({ variables: {} }));
        // a worker has no task list at all; a user only sees the tasks of their own and their groups
        assert.equal(complete, who === WORKER ? 'this needs the role admin or operator or user' : `task <${taskId}> is not yours or your groups'`);
        if (who === WORKER) forbidden(await t.as(who).get('/api/tasks'));
        else assert.deepEqual((await t.as(who).get('/api/tasks').expect(200)).body.items, []);
        forbidden(await t.as(who).get('/api/tasks?candidateGroup=managers'));
      }
      await stillOpen();
    });

    Then('demo, an admin outside the group, may see it but not complete it', async () => {
      await t.as(DEMO).get(`/api/tasks/${taskId}`).expect(200);
      const detail = forbidden(await t.as(DEMO).post(`/api/tasks/${taskId}/complete`).send({ variables: {} }));
      assert.equal(detail, `only the assignee or a candidate completes task <${taskId}>`);
      await stillOpen();
    });

    When('mary, a manager, completes it', async () => {
      await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: {} }).expect(204);
    });

    Then('the approval is done, by mary', async () => {
      const instance = await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200);
      assert.equal(instance.body.status, 'completed');
      const history = await t.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200);
      const completed = history.body.filter((event: { type: string }) => event.type === 'task.completed');
      assert.deepEqual(completed.map((event: { user: string }) => event.user), ['mary']);
    });
  });

  Scenario('deploying is for administrators', () => {
    Then('worker, mary and otto (operator) get 403 and nothing is deployed', async () => {
      for (const who of [WORKER, MARY, OTTO]) {
        const res = await t.as(who).post('/api/deployments').attach('file', Buffer.from(bpmn('sneaked', '<bpmn:startEvent id="S" />')), 'sneaked.bpmn');
        assert.equal(forbidden(res), 'this needs the role admin');
      }
      assert.deepEqual((await t.as(DEMO).get('/api/processes').expect(200)).body.map((p: { key: string }) => p.key), ['approval']);
    });
  });

  Scenario('external tasks are for workers', () => {
    Then('mary and otto (operator) get 403 on every external-task endpoint; worker may fetch', async () => {
      const calls: [string, object][] = [
        ['/api/external-tasks/fetch-and-lock', { workerId: 'mary', maxTasks: 1, topics: [{ topicName: 'any', lockDuration: 1000 }] }],
        ['/api/external-tasks/some-id/complete', { workerId: 'mary' }],
        ['/api/external-tasks/some-id/failure', { workerId: 'mary', errorMessage: 'no' }],
        ['/api/external-tasks/some-id/bpmn-error', { workerId: 'mary', errorCode: 'E' }],
        ['/api/external-tasks/some-id/extend-lock', { workerId: 'mary', newDuration: 1000 }],
        ['/api/external-tasks/some-id/unlock', {}],
      ];
      for (const who of [MARY, OTTO]) {
        for (const [path, body] of calls) {
          assert.equal(forbidden(await t.as(who).post(path).send(body)), 'this needs the role worker or admin', `${who.user} ${path}`);
        }
      }
      const fetched = await t.as(WORKER)
        .post('/api/external-tasks/fetch-and-lock')
        .send({ workerId: 'w1', maxTasks: 1, topics: [{ topicName: 'any', lockDuration: 1000 }] })
        .expect(200);
      assert.deepEqual(fetched.body, []);
    });
  });
});

Feature('The users file', () => {
  const write = (users: unknown[]): string => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'baton-users-')), 'users.json');
    fs.writeFileSync(file, JSON.stringify({ users }));
    return file;
  };

  Scenario('users with an e-mail address and a phone number', () => {
    Then('both are read; they are where task notifications and SMS go', async () => {
      const passwordHash = await hashSecret('pw');
      const [ann, bob] = loadUsersFile(write([
        { name: 'ann', passwordHash, groups: ['managers'], roles: ['user'], email: 'ann@example.com', phone: '+41791234567' },
        { name: 'bob', passwordHash },
      ]));
      assert.deepEqual({ email: ann?.email, phone: ann?.phone }, { email: 'ann@example.com', phone: '+41791234567' });
      assert.deepEqual({ email: bob?.email, phone: bob?.phone }, { email: undefined, phone: undefined });
    });
    Then('a bad address or a number not in E.164 form is refused, naming the user', async () => {
      const passwordHash = await hashSecret('pw');
      assert.throws(() => loadUsersFile(write([{ name: 'ann', passwordHash, email: 'ann at example' }])), /user 1: email must be an e-mail address/);
      assert.throws(() => loadUsersFile(write([{ name: 'ann', passwordHash, phone: '079 123 45 67' }])), /user 1: phone must be in E\.164 form/);
    });
  });
});
