import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Response } from 'supertest';
import { DEMO, MARY, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const INVOICE = fs.readFileSync(path.join(import.meta.dirname, '../fixtures/deploy-invoice.bpmn'), 'utf8');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A process that only starts and ends. */
const plain = (id: string, extra = ''): string =>
  bpmn(id, `<bpmn:startEvent id="Start" />${extra}<bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="End" /><bpmn:endEvent id="End" />`);

/** A process whose only flow has the given condition. */
const withCondition = (id: string, flows: Record<string, string>): string =>
  bpmn(
    id,
    `<bpmn:startEvent id="Start" /><bpmn:exclusiveGateway id="Split" /><bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Split" />
    ${Object.entries(flows)
      .map(([flowId, condition]) => `<bpmn:sequenceFlow id="${flowId}" sourceRef="Split" targetRef="End">${condition}</bpmn:sequenceFlow>`)
      .join('\n')}
    <bpmn:endEvent id="End" />`,
  );

const condition = (body: string, language?: string): string =>
  `<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"${language ? ` language="${language}"` : ''}>${body}</bpmn:conditionExpression>`;

/** Asserts an RFC 9457 problem response and returns its body. */
function problem(res: Response, status: number, title: string): { detail: string; problems?: { path?: string; message: string }[] } {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.body.type, 'about:blank');
  assert.equal(res.body.title, title);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.detail, 'string');
  return res.body;
}

Feature('Deploying BPMN files', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
  });
  after(() => t.close());

  Scenario('a modeler uploads one .bpmn file', () => {
    let deploymentId: string;
    When('demo uploads invoice.bpmn as multipart', async () => {
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(INVOICE), 'invoice.bpmn').expect(201);
      assert.match(res.body.id, UUID);
      deploymentId = res.body.id;
      assert.deepEqual(res.body, {
        id: deploymentId,
        processes: [{ key: 'invoice', version: 1, name: 'Invoice approval' }],
        warnings: [],
        files: [
          {
            file: 'invoice.bpmn',
            deployable: true,
            executable: true,
            processes: [{ key: 'invoice', name: 'Invoice approval', executable: true, runs: true, notExecuted: [] }],
            displayOnly: [],
            problems: [],
            warnings: [],
          },
        ],
      });
    });

    Then('the process list shows it with its start form', async () => {
      const list = await t.as(MARY).get('/api/processes').expect(200);
      assert.equal(list.body.length, 1);
      const [invoice] = list.body;
      assert.equal(invoice.key, 'invoice');
      assert.equal(invoice.version, 1);
      assert.equal(invoice.versions, 1);
      assert.equal(invoice.name, 'Invoice approval');
      assert.equal(invoice.deploymentId, deploymentId);
      assert.ok(Math.abs(Date.parse(invoice.deployedAt) - t.now().getTime()) < 60_000);
      assert.deepEqual(invoice.startForm, [
        { id: 'amount', label: 'Amount', type: 'long', required: true, constraints: { min: 1 } },
        { id: 'creditor', label: 'Creditor', type: 'string', required: false },
      ]);
    });

    Then('its XML is returned exactly as uploaded', async () => {
      const res = await t.as(MARY).get('/api/processes/invoice/xml').expect(200);
      assert.match(res.headers['content-type'] ?? '', /^application\/xml/);
      assert.equal(res.text, INVOICE);
    });
  });

  Scenario('uploading the same file again keeps the version', () => {
    Then('the deployment answers version 1 and no new version appears', async () => {
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(INVOICE), 'invoice.bpmn').expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'invoice', version: 1, name: 'Invoice approval' }]);
      const versions = await t.as(DEMO).get('/api/processes/invoice').expect(200);
      assert.deepEqual(versions.body.versions.map((v: { version: number }) => v.version), [1]);
    });
  });

  Scenario('a changed file becomes version 2 and version 1 stays readable', () => {
    const changed = INVOICE.replace('name="Invoice approval"', 'name="Invoice approval (two steps)"');
    When('demo uploads a changed invoice.bpmn', async () => {
      assert.notEqual(changed, INVOICE);
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(changed), 'invoice.bpmn').expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'invoice', version: 2, name: 'Invoice approval (two steps)' }]);
    });

    Then('the process shows both versions, newest first', async () => {
      const res = await t.as(DEMO).get('/api/processes/invoice').expect(200);
      assert.equal(res.body.key, 'invoice');
      assert.deepEqual(
        res.body.versions.map((v: { version: number; name: string }) => [v.version, v.name]),
        [[2, 'Invoice approval (two steps)'], [1, 'Invoice approval']],
      );
      assert.deepEqual(res.body.versions[0].startForm.map((field: { id: string }) => field.id), ['amount', 'creditor']);
      const list = await t.as(DEMO).get('/api/processes').expect(200);
      assert.deepEqual(list.body.map((p: { key: string; version: number; versions: number }) => [p.key, p.version, p.versions]), [['invoice', 2, 2]]);
    });

    Then('the XML of each version can be read', async () => {
      assert.equal((await t.as(DEMO).get('/api/processes/invoice/xml').expect(200)).text, changed);
      assert.equal((await t.as(DEMO).get('/api/processes/invoice/xml?version=2').expect(200)).text, changed);
      assert.equal((await t.as(DEMO).get('/api/processes/invoice/xml?version=1').expect(200)).text, INVOICE);
    });

    Then('uploading version 1 again makes version 3: only the newest counts as unchanged', async () => {
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(INVOICE), 'invoice.bpmn').expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'invoice', version: 3, name: 'Invoice approval' }]);
    });
  });

  Scenario('several files in one upload', () => {
    Then('each process gets its version; an unchanged one keeps its own', async () => {
      const res = await t.as(DEMO)
        .post('/api/deployments')
        .attach('file', Buffer.from(plain('orders')), 'orders.bpmn')
        .attach('file', Buffer.from(plain('returns')), 'returns.bpmn')
        .attach('file', Buffer.from(INVOICE), 'invoice.bpmn')
        .expect(201);
      assert.deepEqual(res.body.processes, [
        { key: 'orders', version: 1, name: 'orders' },
        { key: 'returns', version: 1, name: 'returns' },
        { key: 'invoice', version: 3, name: 'Invoice approval' },
      ]);
      const list = await t.as(DEMO).get('/api/processes').expect(200);
      assert.deepEqual(list.body.map((p: { key: string }) => p.key).sort(), ['invoice', 'orders', 'returns']);
    });
  });

  Scenario('a script or tool posts the XML itself', () => {
    Then('application/xml and application/bpmn+xml bodies are deployed', async () => {
      const xml = await t.as(DEMO).post('/api/deployments?name=shipping').type('application/xml').send(plain('shipping')).expect(201);
      assert.match(xml.body.id, UUID);
      assert.deepEqual(xml.body.processes, [{ key: 'shipping', version: 1, name: 'shipping' }]);
      assert.deepEqual(xml.body.warnings, []);
      const changed = await t.as(DEMO).post('/api/deployments').type('application/xml').send(plain('shipping', '<bpmn:task id="Pack" />')).expect(201);
      assert.deepEqual(changed.body.processes, [{ key: 'shipping', version: 2, name: 'shipping' }]);
      const bpmnXml = await t.as(DEMO).post('/api/deployments').type('application/bpmn+xml').send(plain('billing')).expect(201);
      assert.deepEqual(bpmnXml.body.processes, [{ key: 'billing', version: 1, name: 'billing' }]);
      assert.equal((await t.as(DEMO).get('/api/processes/shipping/xml?version=1').expect(200)).text, plain('shipping'));
    });

    Then('a text/xml body is deployed too', async () => {
      // @koa/bodyparser merges extendTypes over its defaults index by index: listing only
      // application/bpmn+xml there once dropped text/xml (400 "no BPMN file was sent").
      const res = await t.as(DEMO).post('/api/deployments').type('text/xml').send(plain('receiving'));
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.body.processes, [{ key: 'receiving', version: 1, name: 'receiving' }]);
    });
  });

  Scenario('warnings of the BPMN reader do not stop a deployment', () => {
    Then('they are returned with the element and file they concern', async () => {
      const res = await t.as(DEMO)
        .post('/api/deployments')
        .attach('file', Buffer.from(bpmn('warned', '<bpmn:startEvent id="Start" camunda:bogus="1" />')), 'warned.bpmn')
        .expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'warned', version: 1, name: 'warned' }]);
      assert.deepEqual(res.body.warnings, [{ path: 'Start', message: 'warned.bpmn: unknown attribute <camunda:bogus>' }]);
    });
  });

  Scenario('a non-executable process of a file is deployed for viewing', () => {
    Then('its pool, even with a script task, can be read but not started', async () => {
      const xml = bpmn(
        'inhouse',
        '<bpmn:startEvent id="Start" />',
        '<bpmn:process id="partner" isExecutable="false"><bpmn:scriptTask id="Script" scriptFormat="javascript"><bpmn:script>1</bpmn:script></bpmn:scriptTask></bpmn:process>',
      );
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'collab.bpmn').expect(201);
      assert.deepEqual(res.body.processes, [
        { key: 'partner', version: 1, name: 'partner' },
        { key: 'inhouse', version: 1, name: 'inhouse' },
      ]);
      assert.equal((await t.as(DEMO).get('/api/processes/partner/xml').expect(200)).text, xml);
      const start = problem(await t.as(DEMO).post('/api/processes/partner/instances').send({}), 400, 'Invalid request');
      assert.deepEqual(start.problems, [{ path: 'partner', message: 'process <partner> is not executable (isExecutable="true" is not set): deployed for viewing' }]);
    });
  });

  Scenario('a process id with every ASCII name character runs (issue 15)', () => {
    const key = 'Pruef_ung-2.v1';
    Then('it deploys as runnable, starts and completes on both APIs', async () => {
      const deployed = await deploy(t.as(DEMO), plain(key), 'pruefung.bpmn');
      assert.deepEqual(deployed.processes.map((process) => process.key), [key]);
      const started = await t.as(DEMO).post(`/api/processes/${encodeURIComponent(key)}/instances`).send({}).expect(201);
      assert.equal(started.body.status, 'completed');
      const camunda = await t.as(DEMO).post(`/engine-rest/process-definition/key/${encodeURIComponent(key)}/start`).send({}).expect(200);
      assert.equal(camunda.body.ended, true);
    });
  });

  Scenario('the process read endpoints refuse what they cannot answer', () => {
    Then('an unknown process is 404 and a bad version 400', async () => {
      assert.equal(problem(await t.as(DEMO).get('/api/processes/nope'), 404, 'Not found').detail, 'process <nope> not found');
      assert.equal(problem(await t.as(DEMO).get('/api/processes/nope/xml'), 404, 'Not found').detail, 'process <nope> not found');
      assert.equal(problem(await t.as(DEMO).get('/api/processes/invoice/xml?version=99'), 404, 'Not found').detail, 'process <invoice@99> not found');
      for (const version of ['abc', '0', '-1', '1.5', '', '1&version=2']) {
        const body = problem(await t.as(DEMO).get(`/api/processes/invoice/xml?version=${version}`), 400, 'Invalid request');
        assert.equal(body.detail, 'version must be a positive integer', `version=${version}`);
      }
    });
  });
});

Feature('Refused deployments name every problem and store nothing', () => {
  let t: TestBaton;
  let stored: unknown;
  before(async () => {
    t = await startBaton();
    await deploy(t.as(DEMO), INVOICE, 'invoice.bpmn');
    stored = (await t.as(DEMO).get('/api/processes').expect(200)).body;
  });
  after(() => t.close());

  /** nothing changed since the Feature began: same processes, same versions */
  const nothingStored = async (): Promise<void> => {
    assert.deepEqual((await t.as(DEMO).get('/api/processes').expect(200)).body, stored);
  };

  Scenario('a file with a script task and a service task without a topic', () => {
    Then('both elements are named and the process is not stored', async () => {
      const xml = bpmn(
        'risky',
        `<bpmn:startEvent id="Start" />
        <bpmn:scriptTask id="Calculate" scriptFormat="javascript"><bpmn:script>next()</bpmn:script></bpmn:scriptTask>
        <bpmn:serviceTask id="Charge" name="Charge card" />
        <bpmn:serviceTask id="Refund" camunda:class="com.acme.Refund" />`,
      );
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'risky.bpmn');
      const body = problem(res, 400, 'Invalid request');
      assert.equal(body.detail, 'the deployment has 3 problem(s); nothing was deployed');
      assert.deepEqual(body.problems?.map((p) => p.path), ['Calculate', 'Charge', 'Refund']);
      assert.match(body.problems?.[0]?.message ?? '', /^risky\.bpmn: ScriptTask <Calculate>: has scriptFormat "javascript", which is not enabled; script tasks run only in formats an operator enables/);
      assert.match(body.problems?.[1]?.message ?? '', /^risky\.bpmn: <Charge>: a ServiceTask needs camunda:type="external" and a camunda:topic$/);
      assert.match(body.problems?.[2]?.message ?? '', /^risky\.bpmn: <Refund>: Java delegates and expressions cannot run in Baton/);
      problem(await t.as(DEMO).get('/api/processes/risky'), 404, 'Not found');
      await nothingStored();
    });
  });

  Scenario('one good and one bad file in the same upload', () => {
    Then('the bad file is named and neither is stored, not even a new version of invoice', async () => {
      const changedInvoice = INVOICE.replace('Invoice approval', 'Invoice approval v2');
      const bad = bpmn('broken', '<bpmn:startEvent id="Start" /><bpmn:userTask id="Notify" camunda:assignee="${x.constructor}" />');
      const res = await t.as(DEMO)
        .post('/api/deployments')
        .attach('file', Buffer.from(changedInvoice), 'invoice.bpmn')
        .attach('file', Buffer.from(plain('fine')), 'fine.bpmn')
        .attach('file', Buffer.from(bad), 'broken.bpmn');
      const body = problem(res, 400, 'Invalid request');
      assert.deepEqual(body.problems?.map((p) => p.path), ['Notify']);
      assert.match(body.problems?.[0]?.message ?? '', /^broken\.bpmn: <Notify>: invalid expression \$\{x\.constructor\}/);
      problem(await t.as(DEMO).get('/api/processes/fine'), 404, 'Not found');
      problem(await t.as(DEMO).get('/api/processes/broken'), 404, 'Not found');
      await nothingStored();
    });
  });

  Scenario('the same process in two files', () => {
    Then('the duplicate is named', async () => {
      const res = await t.as(DEMO)
        .post('/api/deployments')
        .attach('file', Buffer.from(plain('twice')), 'a.bpmn')
        .attach('file', Buffer.from(plain('twice', '<bpmn:task id="Other" />')), 'b.bpmn');
      const body = problem(res, 400, 'Invalid request');
      assert.deepEqual(body.problems, [{ path: 'twice', message: 'b.bpmn: process <twice> is in more than one file' }]);
      await nothingStored();
    });
  });

  Scenario('an id with a letter outside ASCII, which XML allows and the BPMN reader drops (issue 15)', () => {
    const nonAscii = plain('pruefung').replace('<bpmn:process id="pruefung"', '<bpmn:process id="prüfung"');
    const reason = 'is not one Baton can read: an id must start with an ASCII letter or _ and hold only ASCII letters, digits, _, - and . (the element and all it contains would be lost)';

    Then('a process id is refused naming the id and why, also with view-only, and nothing is stored', async () => {
      for (const query of ['', '?viewOnly=true']) {
        const body = problem(await t.as(DEMO).post(`/api/deployments${query}`).attach('file', Buffer.from(nonAscii), 'pruefung.bpmn'), 400, 'Invalid request');
        assert.deepEqual(body.problems, [{ path: 'prüfung', message: `pruefung.bpmn: the id <prüfung> ${reason}` }]);
      }
      await nothingStored();
    });
    Then('the Camunda API refuses it with a ParseException naming the id', async () => {
      const res = await t.as(DEMO).post('/engine-rest/deployment/create').attach('upload', Buffer.from(nonAscii), 'pruefung.bpmn').expect(400);
      assert.equal(res.body.type, 'ParseException');
      assert.match(res.body.message, /the id <prüfung> is not one Baton can read/);
      await nothingStored();
    });
    Then('an element id is refused the same way', async () => {
      const body = problem(await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(plain('checks', '<bpmn:task id="Prüfen" />')), 'checks.bpmn'), 400, 'Invalid request');
      assert.deepEqual(body.problems, [{ path: 'Prüfen', message: `checks.bpmn: the id <Prüfen> ${reason}` }]);
      await nothingStored();
    });
  });

  Scenario('files that are not runnable BPMN', () => {
    Then('text that is not XML is refused', async () => {
      const body = problem(await t.as(DEMO).post('/api/deployments').type('application/xml').send('hello world'), 400, 'Invalid request');
      assert.equal(body.problems?.length, 1);
      assert.match(body.problems?.[0]?.message ?? '', /^process\.bpmn: not valid BPMN XML: /);
      await nothingStored();
    });

    Then('XML that is not BPMN is refused', async () => {
      const body = problem(
        await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from('<?xml version="1.0"?><invoice><amount>5</amount></invoice>'), 'invoice.xml'),
        400,
        'Invalid request',
      );
      assert.equal(body.problems?.length, 1);
      assert.match(body.problems?.[0]?.message ?? '', /^invoice\.xml: /);
      await nothingStored();
    });

    Then('an upload without a file, or an empty body, is refused', async () => {
      const noFile = problem(await t.as(DEMO).post('/api/deployments').field('deployment-name', 'nothing'), 400, 'Invalid request');
      assert.equal(noFile.detail, 'no BPMN file was sent');
      assert.deepEqual(noFile.problems, [{ path: 'files', message: 'send at least one .bpmn file' }]);
      const blank = problem(await t.as(DEMO).post('/api/deployments').type('application/xml').send('   '), 400, 'Invalid request');
      assert.equal(blank.detail, 'no BPMN file was sent');
      await nothingStored();
    });

    Then('more than 20 files in one upload are refused', async () => {
      let request = t.as(DEMO).post('/api/deployments');
      for (let i = 1; i <= 21; i++) request = request.attach('file', Buffer.from(plain(`many${i}`)), `many${i}.bpmn`);
      const body = problem(await request, 400, 'Invalid request');
      assert.equal(body.detail, 'at most 20 files per deployment');
      problem(await t.as(DEMO).get('/api/processes/many1'), 404, 'Not found');
      await nothingStored();
    });
  });

  Scenario('XML with a DOCTYPE is refused before it is parsed', () => {
    const XXE = `<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
${plain('xxe').replace(/^<\?xml[^>]*>/, '').replace('<bpmn:process id="xxe"', '<bpmn:process id="xxe" name="&secret;"')}`;
    const LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
${plain('laughs').replace(/^<\?xml[^>]*>/, '').replace('<bpmn:process id="laughs"', '<bpmn:process id="laughs" name="&lol3;"')}`;

    Then('an external entity (XXE) is refused, as a body and as a file', async () => {
      for (const res of [
        await t.as(DEMO).post('/api/deployments').type('application/xml').send(XXE),
        await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(XXE), 'xxe.bpmn'),
      ]) {
        const body = problem(res, 400, 'Invalid request');
        assert.equal(body.problems?.length, 1);
        assert.match(body.problems?.[0]?.message ?? '', /: XML with a DOCTYPE or entity declarations is refused$/);
      }
      problem(await t.as(DEMO).get('/api/processes/xxe'), 404, 'Not found');
      await nothingStored();
    });

    Then('entity expansion (billion laughs) is refused', async () => {
      const body = problem(await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(LAUGHS), 'laughs.bpmn'), 400, 'Invalid request');
      assert.deepEqual(body.problems, [{ message: 'laughs.bpmn: XML with a DOCTYPE or entity declarations is refused' }]);
      await nothingStored();
    });
  });

  Scenario('conditions may not run code', () => {
    Then('a script condition and expressions reaching constructor, __proto__ or functions are each named', async () => {
      const xml = withCondition('sneaky', {
        viaScript: condition('next(null, this.environment.variables.ok)', 'javascript'),
        viaConstructor: condition('${amount.constructor}'),
        viaProto: condition('${customer["__proto__"]}'),
        viaCall: condition('${exit()}'),
        fine: condition('${amount &gt; 100}'),
      });
      const body = problem(await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'sneaky.bpmn'), 400, 'Invalid request');
      assert.deepEqual(body.problems?.map((p) => p.path), ['viaScript', 'viaConstructor', 'viaProto', 'viaCall']);
      assert.equal(body.problems?.[0]?.message, 'sneaky.bpmn: <viaScript>: script conditions (javascript) are refused; use ${...}');
      assert.match(body.problems?.[1]?.message ?? '', /^sneaky\.bpmn: <viaConstructor>: invalid expression \$\{amount\.constructor\}: /);
      assert.match(body.problems?.[2]?.message ?? '', /"__proto__" is not allowed$/);
      assert.match(body.problems?.[3]?.message ?? '', /invalid expression \$\{exit\(\)\}: only the methods of strings, lists and maps may be called$/);
      problem(await t.as(DEMO).get('/api/processes/sneaky'), 404, 'Not found');
      await nothingStored();
    });

    Then('an expression that does not parse is named', async () => {
      const xml = withCondition('typo', { f1: condition('${amount >}') });
      const body = problem(await t.as(DEMO).post('/api/deployments').type('application/xml').send(xml.replace('>}', '&gt;}')), 400, 'Invalid request');
      assert.deepEqual(body.problems?.map((p) => p.path), ['f1']);
      assert.match(body.problems?.[0]?.message ?? '', /^process\.bpmn: <f1>: invalid expression \$\{amount >\}/);
      await nothingStored();
    });

  });

  Scenario('the upload must be BPMN XML or multipart', () => {
    Then('text/plain, JSON or no body at all get 415', async () => {
      const expected = 'send multipart/form-data with .bpmn files, or the BPMN XML as application/xml';
      const text = problem(await t.as(DEMO).post('/api/deployments').type('text/plain').send(plain('texty')), 415, 'Unsupported media type');
      assert.equal(text.detail, expected);
      const json = problem(await t.as(DEMO).post('/api/deployments').send({ xml: plain('jsony') }), 415, 'Unsupported media type');
      assert.equal(json.detail, expected);
      problem(await t.as(DEMO).post('/api/deployments'), 415, 'Unsupported media type');
      await nothingStored();
    });

  });

  Scenario('only administrators deploy', () => {
    Then('mary (a manager) and worker get 403', async () => {
      for (const who of [MARY, WORKER]) {
        const res = await t.as(who).post('/api/deployments').attach('file', Buffer.from(plain('sneaked')), 'sneaked.bpmn');
        assert.equal(problem(res, 403, 'Forbidden').detail, 'this needs the role admin');
      }
      problem(await t.as(DEMO).get('/api/processes/sneaked'), 404, 'Not found');
      await nothingStored();
    });

    Then('without credentials, or with a wrong password, it is 401 with a Basic challenge', async () => {
      const anonymous = await t.anonymous().post('/api/deployments').type('application/xml').send(plain('anon'));
      assert.equal(problem(anonymous, 401, 'Unauthorized').detail, 'authentication required');
      assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="baton", charset="UTF-8"');
      const wrong = await t.as({ user: 'demo', password: 'nope' }).post('/api/deployments').type('application/xml').send(plain('anon'));
      assert.equal(problem(wrong, 401, 'Unauthorized').detail, 'invalid credentials');
      assert.equal(wrong.headers['www-authenticate'], 'Basic realm="baton", charset="UTF-8"');
      await nothingStored();
    });
  });
});

Feature('Uploads larger than BATON_BODY_LIMIT_BYTES', () => {
  let t: TestBaton;
  const big = (id: string): string => plain(id, `<!-- ${'x'.repeat(3000)} -->`);
  before(async () => {
    t = await startBaton({ env: { BATON_BODY_LIMIT_BYTES: '2048' } });
  });
  after(() => t.close());

  Scenario('a 2 KiB limit', () => {
    Then('a small file is still deployed', async () => {
      assert.ok(Buffer.byteLength(plain('small')) < 2048);
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(plain('small')), 'small.bpmn').expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'small', version: 1, name: 'small' }]);
    });

    Then('a larger XML body, file, or set of files is refused with 413 and nothing is stored', async () => {
      const expected = 'request body exceeds 2048 bytes';
      const raw = problem(await t.as(DEMO).post('/api/deployments').type('application/xml').send(big('bigraw')), 413, 'Payload too large');
      assert.equal(raw.detail, expected);
      const file = problem(await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(big('bigfile')), 'big.bpmn'), 413, 'Payload too large');
      assert.equal(file.detail, expected);
      const halves = [plain('half1', `<!-- ${'x'.repeat(700)} -->`), plain('half2', `<!-- ${'x'.repeat(700)} -->`)];
      assert.ok(halves.every((xml) => Buffer.byteLength(xml) < 2048));
      const several = await t.as(DEMO)
        .post('/api/deployments')
        .attach('file', Buffer.from(halves[0] as string), 'half1.bpmn')
        .attach('file', Buffer.from(halves[1] as string), 'half2.bpmn');
      assert.equal(problem(several, 413, 'Payload too large').detail, expected);
      const list = await t.as(DEMO).get('/api/processes').expect(200);
      assert.deepEqual(list.body.map((p: { key: string }) => p.key), ['small']);
    });
  });
});

/**
 * Runs a request while recording uncaught exceptions instead of letting mocha report them: in
 * `npm start` nothing catches them, so each one would stop the server.
 */
async function uncaughtDuring(work: () => Promise<void>): Promise<Error[]> {
  const crashes: Error[] = [];
  const mochaHandlers = process.listeners('uncaughtException');
  const record = (err: Error): void => void crashes.push(err);
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', record);
  try {
    await work();
  } finally {
    process.off('uncaughtException', record);
    for (const handler of mochaHandlers) process.on('uncaughtException', handler);
  }
  return crashes;
}

Feature('Malformed and evasive uploads are refused without harm', () => {
  let t: TestBaton;
  beforeEach(async () => {
    t = await startBaton();
  });
  afterEach(() => t.close());

  const stillEmpty = async (): Promise<void> => {
    assert.deepEqual((await t.as(DEMO).get('/api/processes').expect(200)).body, []);
  };

  Scenario('a multipart body cut short', () => {
    Then('is a 400 and the server keeps running', async () => {
      // busboy reports "Unexpected end of form" on the open file stream as well as on the parser
      let body: { detail: string } | undefined;
      const crashes = await uncaughtDuring(async () => {
        const res = await t.as(DEMO)
          .post('/api/deployments')
          .set('Content-Type', 'multipart/form-data; boundary=XYZ')
          .send(`--XYZ\r\nContent-Disposition: form-data; name="file"; filename="cut.bpmn"\r\nContent-Type: application/xml\r\n\r\n${plain('cut')}`);
        body = problem(res, 400, 'Invalid request');
        await t.anonymous().get('/health').expect(200);
      });
      assert.match(body?.detail ?? '', /^malformed multipart body: /);
      assert.deepEqual(crashes.map((err) => err.message), []);
      await stillEmpty();
    });
  });

  Scenario('a multipart content type without a boundary', () => {
    Then('is a 400 naming the missing boundary', async () => {
      // busboy() throws synchronously on a missing boundary; that once reached the client as a 500
      const res = await t.as(DEMO).post('/api/deployments').set('Content-Type', 'multipart/form-data').send(plain('noboundary'));
      const body = problem(res, 400, 'Invalid request');
      assert.match(body.detail, /boundary/i);
      await stillEmpty();
    });
  });

  Scenario('a forbidden property name built by string concatenation', () => {
    Then('is refused like the literal name', async () => {
      // a check of identifiers and string literals alone let `amount['con' + 'structor']` through,
      // reading Number.prototype.constructor at run time
      const xml = withCondition('computed', { f1: condition("${amount['con' + 'structor']['na' + 'me'] == 'Number'}") });
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'computed.bpmn');
      const body = problem(res, 400, 'Invalid request');
      assert.deepEqual(body.problems?.map((p) => p.path), ['f1']);
      assert.match(body.problems?.[0]?.message ?? '', /^computed\.bpmn: <f1>: invalid expression .*: computed property names are not allowed/);
      await stillEmpty();
    });
  });
});
