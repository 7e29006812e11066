import assert from 'node:assert/strict';
import supertest from 'supertest';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';
import { ensureWebAppBuilt, openBrowser, screenshot, signIn, type Browser } from './browser.ts';

const HOSTILE_NAME = '<img src=x onerror="window.batonXss=1">Approve <b>this</b>';
const HOSTILE_VALUE = '<script>window.batonXss=2</script><b>bold</b>';
const HOSTILE_MESSAGE = '<img src=y onerror="window.batonXss=3">down';

/** Signs in through the API as the web app does and returns the session cookie. */
async function sessionCookie(t: TestBaton, user: string, password: string): Promise<{ cookie: string; setCookie: string }> {
  const res = await supertest(t.url).post('/api/session').send({ user, password }).expect(200);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0] ?? '';
  return { cookie: setCookie.split(';')[0] ?? '', setCookie };
}

Feature('The web app keeps sessions, requests and pages safe', () => {
  let t: TestBaton;
  before(async function () {
    this.timeout(120_000);
    await ensureWebAppBuilt();
    t = await startBaton();
    await deploy(
      t.as(DEMO),
      bpmn(
        'hostile',
        `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Work" />
         <bpmn:serviceTask id="Work" name="Fetch &lt;i&gt;data&lt;/i&gt;" camunda:type="external" camunda:topic="hostile.work" />
         <bpmn:sequenceFlow id="F2" sourceRef="Work" targetRef="Review" />
         <bpmn:userTask id="Review" name="${HOSTILE_NAME.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}" camunda:candidateGroups="managers" />
         <bpmn:sequenceFlow id="F3" sourceRef="Review" targetRef="End" /><bpmn:endEvent id="End" />`,
      ),
      'hostile.bpmn',
    );
  });
  after(() => t?.close());

  Scenario('the session cookie is HttpOnly and SameSite; a wrong password gets none', () => {
    let browser: Browser;
    after(() => browser?.close());
    Then('signing in sets baton_session with HttpOnly, SameSite=Lax and Path=/', async () => {
      const { setCookie } = await sessionCookie(t, MARY.user, MARY.password);
      assert.match(setCookie, /^baton_session=[\w-]{43};/);
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Lax/);
      assert.match(setCookie, /; Path=\//);
    });
    And('a wrong password is 401 problem+json without a cookie, and the page says so', async () => {
      const res = await supertest(t.url).post('/api/session').set('x-requested-with', 'baton-web').send({ user: 'mary', password: 'wrong' }).expect(401);
      assert.equal(res.type, 'application/problem+json');
      assert.equal(res.headers['set-cookie'], undefined);
      assert.equal(res.headers['www-authenticate'], undefined);
      browser = await openBrowser();
      await browser.page.goto(`${t.url}/login`);
      // by keyboard only: the user field has the focus, Tab leads to the password, Enter submits
      await browser.page.getByLabel('User').and(browser.page.locator(':focus')).waitFor();
      await browser.page.keyboard.type('mary');
      await browser.page.keyboard.press('Tab');
      await browser.page.keyboard.type('wrong');
      await browser.page.keyboard.press('Enter');
      await browser.page.getByText('Wrong user or password.').waitFor();
      await screenshot(browser.page, '20-login-wrong-password');
    });
    And('a cross-site form cannot sign anyone in (JSON only), and guessing is slowed as on the API (429 after five free failures)', async () => {
      const form = await supertest(t.url).post('/api/session').type('form').send({ user: 'demo', password: 'demo' }).expect(415);
      assert.equal(form.headers['set-cookie'], undefined);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await supertest(t.url).post('/api/session').send({ user: 'intruder', password: `guess${i}` })).status);
      assert.deepEqual(statuses.slice(0, 6), Array(6).fill(401));
      assert.equal(statuses.at(-1), 429);
    });
    And('in the browser the cookie is out of reach of scripts', async () => {
      await signIn(browser.page, t.url, MARY.user, MARY.password, '/tasks');
      const [cookie] = await browser.context.cookies(t.url);
      assert.equal(cookie?.name, 'baton_session');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Lax');
      assert.doesNotMatch(await browser.page.evaluate(() => document.cookie), /baton_session/);
    });
  });

  Scenario('a state-changing request signed in by the cookie needs the CSRF token', () => {
    let cookie: string;
    let token: string;
    Given('demo\'s session cookie and the token /api/me gives it', async () => {
      ({ cookie } = await sessionCookie(t, DEMO.user, DEMO.password));
      const me = await supertest(t.url).get('/api/me').set('cookie', cookie).expect(200);
      token = me.body.csrfToken;
      assert.equal(me.body.name, 'demo');
      assert.equal(me.body.may.deploy, true);
    });
    Then('starting an instance with the cookie but without the token is refused with 403 problem+json, and nothing starts', async () => {
      const res = await supertest(t.url).post('/api/processes/hostile/instances').set('cookie', cookie).send({}).expect(403);
      assert.equal(res.type, 'application/problem+json');
      assert.match(res.body.detail, /CSRF token missing or wrong/);
      const wrong = await supertest(t.url).post('/api/processes/hostile/instances').set('cookie', cookie).set('x-csrf-token', `${token}x`).send({}).expect(403);
      assert.match(wrong.body.detail, /CSRF/);
      const list = await t.as(DEMO).get('/api/instances?processKey=hostile').expect(200);
      assert.equal(list.body.total, 0);
    });
    And('with the token it starts; a forged cookie is 401', async () => {
      await supertest(t.url).post('/api/processes/hostile/instances').set('cookie', cookie).set('x-csrf-token', token).send({}).expect(201);
      await supertest(t.url).get('/api/me').set('cookie', `${cookie.slice(0, -3)}abc`).expect(401);
    });
    And('a page script that leaves the token out is refused as well', async () => {
      const browser = await openBrowser();
      try {
        await signIn(browser.page, t.url, DEMO.user, DEMO.password, '/processes');
        const status = await browser.page.evaluate(async () => (await fetch('/api/processes/hostile/instances', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
        assert.equal(status, 403);
        await screenshot(browser.page, '23-processes-after-refused-csrf');
      } finally {
        await browser.close();
      }
    });
  });

  Scenario('every answer carries a content security policy without inline script, and the pages keep to it', () => {
    Then('the page and the API answer with the CSP and the other security headers', async () => {
      for (const url of ['/login', '/processes/salary', '/api/me']) {
        const res = await supertest(t.url).get(url);
        const csp = res.headers['content-security-policy'] ?? '';
        const scripts = csp.split(';').find((part: string) => part.trim().startsWith('script-src')) ?? '';
        assert.equal(scripts.trim(), "script-src 'self'", url);
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
      const page = await supertest(t.url).get('/login').expect(200);
      assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/);
    });
  });

  Scenario('element names, variables and messages containing HTML are shown as text', () => {
    let browser: Browser;
    let instanceId: string;
    after(() => browser?.close());
    Given('an instance with a variable holding markup, whose task has HTML in its name and whose job failed with HTML in the message', async () => {
      const res = await t.as(MARY).post('/api/processes/hostile/instances').send({ variables: { note: HOSTILE_VALUE } }).expect(201);
      instanceId = res.body.id;
      const [job] = (await fetchTasks(t.as(WORKER), 'hostile.work')).filter((task) => task.instanceId === instanceId);
      await t.as(WORKER).post(`/api/external-tasks/${job?.id}/failure`).send({ workerId: 'test-worker', errorMessage: HOSTILE_MESSAGE, retries: 0 }).expect(204);
    });
    When('demo opens the instance', async () => {
      browser = await openBrowser();
      await signIn(browser.page, t.url, DEMO.user, DEMO.password, `/instances/${instanceId}`);
      await browser.page.getByRole('heading', { name: 'Variables' }).waitFor();
    });
    Then('the markup appears as text and nothing of it runs', async () => {
      const { page } = browser;
      await page.locator('.timeline').getByText('incident.created').waitFor();
      await screenshot(page, '21-escaped-instance');
      assert.equal(await page.locator('.variables td code').innerText(), HOSTILE_VALUE);
      await page.locator('.incidents').getByText(HOSTILE_MESSAGE).waitFor();
      await page.getByText('No diagram to show').waitFor();
      await page.locator('.timeline').getByText('Fetch <i>data</i>').first().waitFor();
      assert.equal(await page.locator('img[src="x"], img[src="y"], main b, main i').count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { batonXss?: number }).batonXss), undefined);
    });
    When('the job is retried and mary opens her task list', async () => {
      const incidents = await t.as(DEMO).get(`/api/incidents?instanceId=${instanceId}`).expect(200);
      await t.as(DEMO).post(`/api/incidents/${incidents.body.items[0].id}/retry`).send({}).expect(204);
      const [job] = await fetchTasks(t.as(WORKER), 'hostile.work');
      await t.as(WORKER).post(`/api/external-tasks/${job?.id}/complete`).send({ workerId: 'test-worker' }).expect(204);
      await browser.page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(browser.page, t.url, MARY.user, MARY.password, '/tasks');
    });
    Then('the task\'s name with HTML is a link text, not markup', async () => {
      const { page } = browser;
      await page.getByRole('link', { name: HOSTILE_NAME }).click();
      await page.getByRole('heading', { name: HOSTILE_NAME }).waitFor();
      assert.equal(await page.locator('img[src="x"], main b').count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { batonXss?: number }).batonXss), undefined);
      assert.deepEqual(browser.errors.filter((error) => /Content Security Policy/i.test(error)), []);
      await screenshot(page, '22-escaped-task');
    });
  });
});
