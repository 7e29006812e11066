/**
 * Web app sessions end when they should, on every node that shares the store: signing out, an
 * admin's revocation, a changed password in the users file, and twelve hours after signing in.
 * The nodes are in-process Batons on one SQLite data directory, and on one FerretDB when built.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import supertest from 'supertest';
import { hashSecret } from '../../server/auth/secrets.ts';
import { DEMO, MARY, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { startFerretDb } from '../helpers/ferretdb.ts';
import { makeDataDir, removeDataDir, spawnServer, type ServerProcess } from '../helpers/server-process.ts';

/** A browser's sign-in: its cookie header and CSRF token. */
interface Browser {
  cookie: string;
  csrfToken: string;
}

async function signIn(url: string, { user, password }: { user: string; password: string }): Promise<Browser> {
  const res = await supertest(url).post('/api/session').send({ user, password }).expect(200);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0] ?? '';
  return { cookie: setCookie.split(';')[0] ?? '', csrfToken: res.body.csrfToken as string };
}

/** GET /api/me and a state-changing POST with the browser's cookie and token: both statuses. */
async function use(url: string, browser: Browser): Promise<[number, number]> {
  const me = await supertest(url).get('/api/me').set('cookie', browser.cookie);
  const start = await supertest(url).post('/api/processes/note/instances').set('cookie', browser.cookie).set('x-csrf-token', browser.csrfToken).send({});
  for (const res of [me, start]) if (res.status === 401) assert.equal(res.type, 'application/problem+json');
  return [me.status, start.status];
}

const WORKS: [number, number] = [200, 201];
const ENDED: [number, number] = [401, 401];
const NOTE = bpmn('note', '<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f" sourceRef="Start" targetRef="End" /><bpmn:endEvent id="End" />');

const ferretDb = await startFerretDb();
const stores: [string, Record<string, string> | null][] = [
  ['one SQLite data directory', {}],
  ['one FerretDB database', ferretDb ? { MONGODB_URI: `${ferretDb.uri.replace(/\/?$/, '/')}baton_sessions` } : null],
];
after(() => ferretDb?.stop());

for (const [store, env] of stores) {
  Feature(`Two nodes on ${store}: a session ended on one is ended on both`, function () {
    if (!env) {
      it('needs FerretDB (build it as test/helpers/ferretdb.ts describes)');
      return;
    }
    let a: TestBaton;
    let b: TestBaton;
    before(async () => {
      a = await startBaton({ env });
      b = await startBaton({ env: { ...env, BATON_DATA_DIR: a.dataDir } });
      if (!(await a.as(DEMO).get('/api/processes/note').then((res) => res.status === 200))) await deploy(a.as(DEMO), NOTE, 'note.bpmn');
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    Scenario('mary signs out on node A', () => {
      let mary: Browser;
      Given('mary signed in on node A, and her cookie works on both nodes', async () => {
        mary = await signIn(a.url, MARY);
        assert.deepEqual(await use(a.url, mary), WORKS);
        assert.deepEqual(await use(b.url, mary), WORKS);
      });
      When('she signs out on node A', async () => {
        await supertest(a.url).delete('/api/session').set('cookie', mary.cookie).set('x-csrf-token', mary.csrfToken).expect(204);
      });
      Then('the old cookie and its CSRF token get 401 problem+json on both nodes, for reading and for starting', async () => {
        assert.deepEqual(await use(a.url, mary), ENDED);
        assert.deepEqual(await use(b.url, mary), ENDED);
      });
    });

    Scenario('an admin ends all of mary\'s sessions on node A', () => {
      let maryAtWork: Browser;
      let maryAtHome: Browser;
      let demo: Browser;
      Given('mary signed in twice on node B, and demo once', async () => {
        maryAtWork = await signIn(b.url, MARY);
        maryAtHome = await signIn(b.url, MARY);
        demo = await signIn(b.url, DEMO);
      });
      Then('mary may not end anyone\'s sessions, her own included: 403 problem+json, and every session still works', async () => {
        for (const name of ['demo', 'mary']) {
          const res = await supertest(b.url).delete(`/api/users/${name}/sessions`).set('cookie', maryAtWork.cookie).set('x-csrf-token', maryAtWork.csrfToken);
          assert.equal(res.status, 403, res.text);
          assert.equal(res.type, 'application/problem+json');
        }
        for (const browser of [maryAtWork, maryAtHome, demo]) assert.deepEqual(await use(b.url, browser), WORKS);
      });
      When('demo ends mary\'s sessions through node A', async () => {
        const res = await a.as(DEMO).delete('/api/users/mary/sessions').expect(200);
        assert.deepEqual(res.body, { user: 'mary', revoked: 2 });
      });
      Then('both of mary\'s cookies get 401 on node B; demo\'s still works; mary signs in again', async () => {
        assert.deepEqual(await use(b.url, maryAtWork), ENDED);
        assert.deepEqual(await use(b.url, maryAtHome), ENDED);
        assert.deepEqual(await use(b.url, demo), WORKS);
        assert.deepEqual(await use(a.url, await signIn(b.url, MARY)), WORKS);
      });
      Then('an unknown user is 404 problem+json', async () => {
        const res = await a.as(DEMO).delete('/api/users/nobody/sessions').expect(404);
        assert.equal(res.type, 'application/problem+json');
      });
    });

    Scenario('a session lasts twelve hours', () => {
      let mary: Browser;
      Given('mary signed in on node A', async () => {
        mary = await signIn(a.url, MARY);
      });
      Then('eleven hours and 59 minutes later it still works on node B; a minute later it is over', async () => {
        b.advance((12 * 60 - 1) * 60_000);
        assert.deepEqual(await use(b.url, mary), WORKS);
        b.advance(60_000);
        assert.deepEqual(await use(b.url, mary), ENDED);
      });
    });
  });
}

Feature('A changed password in the users file ends that user\'s sessions', () => {
  let server: ServerProcess | undefined;
  let dataDir: string;
  let usersFile: string;
  const user = async (name: string, password: string) => ({ name, passwordHash: await hashSecret(password), roles: ['user'], groups: [] });
  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  Scenario('ann\'s password is changed while ann and bob are signed in', () => {
    let ann: Browser;
    let bob: Browser;
    Given('Baton runs with a users file of ann and bob, both signed in', async () => {
      dataDir = makeDataDir();
      usersFile = path.join(dataDir, 'users.json');
      fs.writeFileSync(usersFile, JSON.stringify({ users: [await user('ann', 'ann-old'), await user('bob', 'bob-pw')] }));
      server = await spawnServer({ dataDir, demo: 'off', env: { BATON_USERS_FILE: usersFile } });
      ann = await signIn(server.url, { user: 'ann', password: 'ann-old' });
      bob = await signIn(server.url, { user: 'bob', password: 'bob-pw' });
      assert.equal((await supertest(server.url).get('/api/me').set('cookie', ann.cookie)).status, 200);
    });
    When('the file is rewritten with a new password for ann (bob\'s entry is written anew, unchanged)', async () => {
      const bobEntry = JSON.parse(fs.readFileSync(usersFile, 'utf8')).users[1];
      fs.writeFileSync(usersFile, JSON.stringify({ users: [await user('ann', 'ann-new'), bobEntry] }));
      const reread = await server!.waitForLog((line) => line.msg === 'users file read again', 15_000);
      assert.deepEqual(reread.sessionsEnded, ['ann']);
    });
    Then('ann\'s cookie gets 401; bob\'s still works', async () => {
      assert.equal((await supertest(server!.url).get('/api/me').set('cookie', ann.cookie)).status, 401);
      assert.equal((await supertest(server!.url).get('/api/me').set('cookie', bob.cookie)).status, 200);
    });
    Then('ann\'s old password is wrong, her new one signs her in', async () => {
      await supertest(server!.url).post('/api/session').send({ user: 'ann', password: 'ann-old' }).expect(401);
      await signIn(server!.url, { user: 'ann', password: 'ann-new' });
    });
    When('the operator sends SIGHUP with a broken file, then with the file fixed', async () => {
      const good = fs.readFileSync(usersFile, 'utf8');
      fs.writeFileSync(usersFile, '{"users": [');
      process.kill(server!.pid, 'SIGHUP');
      await server!.waitForLog((line) => line.msg === 'users file not read again; the users stay as they were', 15_000);
      assert.equal((await supertest(server!.url).get('/api/me').set('cookie', bob.cookie)).status, 200);
      fs.writeFileSync(usersFile, good);
      process.kill(server!.pid, 'SIGHUP');
      await server!.waitForLog((line) => line.msg === 'users file read again' && line.why === 'SIGHUP', 15_000);
    });
    Then('nothing changed for bob: a file that cannot be read keeps the users as they were', async () => {
      assert.equal((await supertest(server!.url).get('/api/me').set('cookie', bob.cookie)).status, 200);
    });
  });
});
