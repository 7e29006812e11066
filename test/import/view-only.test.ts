import assert from 'node:assert/strict';
import { DEMO, bpmn, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

/** A MIWG file whose sequence flows start at elements the file does not have: it breaks rule REF. */
const BROKEN_FILE = 'test/corpora/miwg/tools/actiBPM 3.E-8 A.3.0-export.bpmn';
const BROKEN_RULE = 'REF: sequenceFlow <_19>: the reference <_16> (bpmn:sourceRef) names no element of the file';

interface Problem {
  path?: string;
  message: string;
}

Feature('Deploying a file for viewing only', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
  });
  after(() => t.close());

  const upload = (xml: string, name: string, viewOnly?: string) => {
    const req = t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), name);
    return viewOnly === undefined ? req : req.field('view-only', viewOnly);
  };
  const messages = (problems: Problem[]): string[] => problems.map((problem) => problem.message);

  Scenario('a file that breaks a rule of the specification', () => {
    const xml = readProcess(BROKEN_FILE);

    Then('it is refused by default, naming the rule', async () => {
      const res = await upload(xml, 'broken.bpmn').expect(400);
      assert.equal(res.type, 'application/problem+json');
      assert.ok(messages(res.body.problems).includes(`broken.bpmn: ${BROKEN_RULE}`), res.text);
      assert.equal((await t.as(DEMO).get('/api/processes/myProcess_1').expect(404)).type, 'application/problem+json');
    });

    Then('with view-only it is deployed for viewing, the rule among the reasons', async () => {
      const res = await upload(xml, 'broken.bpmn', 'true').expect(201);
      assert.deepEqual(res.body.processes, [{ key: 'myProcess_1', version: 1, name: 'myProcess_1' }]);
      const [report] = res.body.files;
      assert.equal(report.deployable, true);
      assert.equal(report.executable, false);
      assert.deepEqual(report.problems, []);
      const [process] = report.processes;
      assert.equal(process.runs, false);
      assert.equal(process.notExecuted[0], 'process <myProcess_1> was deployed with view-only: deployed for viewing');
      assert.ok(process.notExecuted.includes(BROKEN_RULE), process.notExecuted.join('\n'));
    });

    Then('its XML is served as uploaded, and the listing shows it is not executable and why', async () => {
      assert.equal((await t.as(DEMO).get('/api/processes/myProcess_1/xml').expect(200)).text, xml);
      const { body } = await t.as(DEMO).get('/api/processes/myProcess_1').expect(200);
      assert.equal(body.versions[0].executable, false);
      assert.ok(messages(body.versions[0].notExecuted).includes(BROKEN_RULE));
      const listed = (await t.as(DEMO).get('/api/processes').expect(200)).body.find((entry: { key: string }) => entry.key === 'myProcess_1');
      assert.equal(listed.executable, false);
    });

    Then('starting it is refused, naming the rule, by both start endpoints', async () => {
      const res = await t.as(DEMO).post('/api/processes/myProcess_1/instances').send({}).expect(400);
      assert.equal(res.type, 'application/problem+json');
      assert.match(res.body.detail, /^process <myProcess_1> version 1 is deployed for viewing only: .*REF: sequenceFlow <_19>/);
      assert.ok(messages(res.body.problems).includes(BROKEN_RULE), res.text);
      // the Camunda 7 REST API answers in its own error shape
      const camunda = await t.as(DEMO).post('/engine-rest/process-definition/key/myProcess_1/start').send({}).expect(400);
      assert.equal(camunda.body.type, 'InvalidRequestException');
      assert.match(camunda.body.message, /^process <myProcess_1> version 1 is deployed for viewing only: .*REF: sequenceFlow <_19>/);
      assert.equal((await t.as(DEMO).get('/api/instances').expect(200)).body.total, 0);
    });

    Then('uploading it again without view-only is still refused, with view-only keeps the version', async () => {
      await upload(xml, 'broken.bpmn').expect(400);
      await upload(xml, 'broken.bpmn', 'false').expect(400);
      const again = await upload(xml, 'broken.bpmn', 'true').expect(201);
      assert.deepEqual(again.body.processes, [{ key: 'myProcess_1', version: 1, name: 'myProcess_1' }]);
    });
  });

  Scenario('an executable process deployed with ?viewOnly=true, then as is', () => {
    const xml = bpmn('viewed', '<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="End" /><bpmn:endEvent id="End" />');

    Then('the view-only version is not started; the same XML as is becomes a new version that starts', async () => {
      const viewed = await t.as(DEMO).post('/api/deployments?viewOnly=true&name=viewed.bpmn').type('application/xml').send(xml).expect(201);
      assert.deepEqual(viewed.body.files[0].processes[0].notExecuted, ['process <viewed> was deployed with view-only: deployed for viewing']);
      const refused = await t.as(DEMO).post('/api/processes/viewed/instances').send({}).expect(400);
      assert.equal(refused.body.detail, 'process <viewed> version 1 is deployed for viewing only');

      const executable = await t.as(DEMO).post('/api/deployments?name=viewed.bpmn').type('application/xml').send(xml).expect(201);
      assert.deepEqual(executable.body.processes, [{ key: 'viewed', version: 2, name: 'viewed' }]);
      assert.equal(executable.body.files[0].processes[0].runs, true);
      await t.as(DEMO).post('/api/processes/viewed/instances').send({}).expect(201);
      const { body } = await t.as(DEMO).get('/api/processes/viewed').expect(200);
      assert.deepEqual(
        body.versions.map((version: { version: number; executable: boolean }) => [version.version, version.executable]),
        [
          [2, true],
          [1, false],
        ],
      );
    });
  });

  Scenario('a process configured wrongly: a script task in a format that is not enabled', () => {
    const xml = bpmn(
      'scripted',
      `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Calc" />
      <bpmn:scriptTask id="Calc" scriptFormat="javascript"><bpmn:script>process.exit(1)</bpmn:script></bpmn:scriptTask>`,
    );

    Then('it is refused as is and stored for viewing with view-only, the script task among the reasons', async () => {
      const refused = await upload(xml, 'scripted.bpmn').expect(400);
      assert.match(messages(refused.body.problems).join('\n'), /^scripted\.bpmn: ScriptTask <Calc>: /m);
      const [report] = (await upload(xml, 'scripted.bpmn', 'true').expect(201)).body.files;
      assert.match(report.processes[0].notExecuted.join('\n'), /^ScriptTask <Calc>: /m);
      const start = await t.as(DEMO).post('/api/processes/scripted/instances').send({}).expect(400);
      assert.match(start.body.detail, /^process <scripted> version 1 is deployed for viewing only: ScriptTask <Calc>: /);
    });
  });

  Scenario('what view-only does not let through', () => {
    Then('a file with a DOCTYPE is refused, with view-only too', async () => {
      const xml = bpmn('doctype', '<bpmn:startEvent id="Start" />').replace('<bpmn:definitions', '<!DOCTYPE x [<!ENTITY e "e">]>\n<bpmn:definitions');
      const res = await upload(xml, 'doctype.bpmn', 'true').expect(400);
      assert.equal(res.type, 'application/problem+json');
      assert.deepEqual(messages(res.body.problems), ['doctype.bpmn: XML with a DOCTYPE or entity declarations is refused']);
      await t.as(DEMO).get('/api/processes/doctype').expect(404);
    });

    Then('a view-only value other than true or false is refused', async () => {
      const res = await upload(bpmn('odd', '<bpmn:startEvent id="Start" />'), 'odd.bpmn', 'yes').expect(400);
      assert.equal(res.body.detail, 'view-only must be true or false');
      await t.as(DEMO).get('/api/processes/odd').expect(404);
    });
  });
});
