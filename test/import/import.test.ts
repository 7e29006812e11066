import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, startBaton, type TestBaton } from '../helpers/baton.ts';

const CORPUS = path.join(import.meta.dirname, '../corpora/miwg');

/** Every .bpmn file under a folder. */
const bpmnFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? bpmnFiles(full) : entry.name.endsWith('.bpmn') ? [full] : [];
  });

interface FileReport {
  file: string;
  deployable: boolean;
  executable: boolean;
  processes: { key: string; name: string; executable: boolean; runs: boolean; notExecuted: string[] }[];
  displayOnly: string[];
  problems: { path?: string; message: string }[];
}

/** A definitions element with the given content, as modeling tools write collaborations. */
const definitions = (id: string, content: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="${id}" targetNamespace="http://example.com/bpmn">
${content}
</bpmn:definitions>`;

Feature('Importing BPMN files from modeling tools', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
  });
  after(() => t.close());

  const upload = (xml: string, name: string) => t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), name);

  Scenario('every file of the MIWG test corpus is deployed for viewing or refused with the rule it breaks', () => {
    const files = bpmnFiles(CORPUS);
    const outcomes: Record<string, number> = { deployed: 0 };
    const refused: string[] = [];

    Then('each deployed process can be read back and is started only when Baton executes it', async () => {
      assert.ok(files.length >= 20, `the corpus has ${files.length} files`);
      for (const file of files) {
        const name = path.relative(CORPUS, file);
        const xml = fs.readFileSync(file, 'utf8');
        const res = await upload(xml, path.basename(file));
        if (res.status === 400) {
          refused.push(name);
          assert.equal(res.type, 'application/problem+json', name);
          const rules = res.body.problems.filter((problem: { message: string }) => /^[^:]+\.bpmn: (EXT\.\d+|REF): \w+ <[^>]+>: /.test(problem.message));
          assert.ok(rules.length, `${name}: refused without naming a rule: ${res.text}`);
          continue;
        }
        assert.equal(res.status, 201, `${name}: ${res.text}`);
        outcomes.deployed = (outcomes.deployed ?? 0) + 1;
        const [report] = res.body.files as FileReport[];
        assert.ok(report?.deployable && report.processes.length, name);
        for (const process of report.processes) {
          assert.equal((await t.as(DEMO).get(`/api/processes/${encodeURIComponent(process.key)}/xml`).expect(200)).text, xml, name);
          if (process.runs) continue;
          assert.ok(process.notExecuted.length, `${name}: <${process.key}> is not run and says why`);
          const start = await t.as(DEMO).post(`/api/processes/${encodeURIComponent(process.key)}/instances`).send({});
          assert.equal(start.status, 400, `${name}: starting <${process.key}>: ${start.text}`);
          assert.deepEqual(start.body.problems.map((problem: { message: string }) => problem.message), process.notExecuted, name);
        }
      }
    });

    And('most are deployed; refused are the one with a dangling reference and the executable models that break a rule of executable processes', () => {
      // C.3.0: message events without their operation (EXT.128); C.8.1: sequence flows with isImmediate="false" (EXT.024)
      assert.deepEqual(refused.sort(), ['Reference/C.3.0.bpmn', 'Reference/C.8.1.bpmn', 'tools/actiBPM 3.E-8 A.3.0-export.bpmn', 'tools/bpmn.io (Camunda Modeler) 18.6.1 C.3.0-roundtrip.bpmn']);
      assert.equal(outcomes.deployed, files.length - refused.length);
    });
  });

  Scenario('a Camunda Modeler file whose performers made bpmn-engine\'s loader throw', () => {
    const original = fs.readFileSync(path.join(CORPUS, 'tools/bpmn.io (Camunda Modeler) 18.6.1 C.3.0-roundtrip.bpmn'), 'utf8');
    const key = '_8170787a-3207-434d-9bea-4787059f444f';
    Then('as exported it is refused: its message events name no operation, and a condition is written as text', async () => {
      const res = await upload(original, 'fridge.bpmn').expect(400);
      assert.deepEqual(
        res.body.problems.map((problem: { message: string }) => problem.message.replace(/: a message event .*/, '')),
        [
          'fridge.bpmn: EXT.128: messageEventDefinition <Bpmn_MessageEventDefinition_vaRFsAO9EeWi8fS3WiOizw>',
          'fridge.bpmn: <_be893987-caec-4605-b078-bd96b7cd6c12>: the condition "Service Level == \'Premium\'" is text, not an expression such as ${amount > 100}',
          'fridge.bpmn: EXT.128: messageEventDefinition <Bpmn_MessageEventDefinition_zhREUBqHEeWDuOtG0oS24A>',
        ],
      );
    });
    And('written for Camunda (its namespace declared: messages bound by name) with the condition as an expression, it loads and starts', async () => {
      const fixed = original
        .replace("Service Level == 'Premium'", "${serviceLevel == 'Premium'}")
        .replace('<definitions ', '<definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn" ');
      const [report] = (await upload(fixed, 'fridge.bpmn').expect(201)).body.files as FileReport[];
      assert.deepEqual(report!.processes.map((process) => [process.key, process.runs, process.notExecuted]), [[key, true, []]]);
      const started = await t.as(DEMO).post(`/api/processes/${key}/instances`).send({ variables: { serviceLevel: 'Premium' } }).expect(201);
      assert.equal(started.body.status, 'running');
    });
  });

  Scenario('parts bpmn-engine does not know and settings Baton does not read are kept for display and reported', () => {
    const xml = definitions(
      'Definitions_parts',
      `<bpmn:itemDefinition id="Item_Order" structureRef="Order" />
  <bpmn:resource id="Resource_Clerk" name="Clerk" />
  <bpmn:globalUserTask id="Global_Check" name="Check" />
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Pool_Shop" name="Shop" processRef="parts" />
    <bpmn:participant id="Pool_Customer" name="Customer" />
    <bpmn:messageFlow id="Flow_Notice" sourceRef="Approve" targetRef="Pool_Customer" />
  </bpmn:collaboration>
  <bpmn:process id="parts" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_Office" name="Office"><bpmn:flowNodeRef>Approve</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:dataObject id="Data_Order" itemSubjectRef="Item_Order" />
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" camunda:assignee="mary" camunda:dueDate="P1D">
      <bpmn:extensionElements><camunda:taskListener event="create" class="com.acme.Notify" /></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="End" />
    <bpmn:endEvent id="End" />
    <bpmn:textAnnotation id="Note"><bpmn:text>checked daily</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="Link_Note" sourceRef="Approve" targetRef="Note" />
  </bpmn:process>`,
    );
    let id: string;
    When('the file is deployed', async () => {
      const [report] = (await upload(xml, 'parts.bpmn').expect(201)).body.files as FileReport[];
      assert.deepEqual(report!.processes, [{ key: 'parts', name: 'parts', executable: true, runs: true, notExecuted: [] }]);
      assert.deepEqual(report!.displayOnly, [
        'pool <Pool_Customer>: a pool without a process is kept for display',
        'message flow <Flow_Notice>: kept for display; messages reach Baton through its API',
        'lane <Lane_Office>: kept for display, ignored for execution (tasks are assigned by assignee and candidate groups)',
        'data object or store <Data_Order>: kept for display; process data lives in variables',
        'definitions <Item_Order>, <Resource_Clerk>: documents the model, not used for execution',
        'global task <Global_Check>: kept for display; call activities do not call it',
        'camunda:dueDate on <Approve>: not read by Baton, ignored',
        'camunda:TaskListener on <Approve>: not read by Baton, ignored',
      ]);
    });
    Then('its process runs to the end', async () => {
      id = (await t.as(DEMO).post('/api/processes/parts/instances').send({}).expect(201)).body.id;
      const tasks = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items;
      assert.deepEqual(tasks.map((task: { elementId: string }) => task.elementId), ['Approve']);
      await t.as(MARY).post(`/api/tasks/${tasks[0].id}/complete`).send({}).expect(204);
      assert.equal((await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body.status, 'completed');
    });
  });

  Scenario('a process with an element Baton does not execute', () => {
    const xml = bpmn(
      'complex',
      `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Fork" /><bpmn:parallelGateway id="Fork" />
      <bpmn:sequenceFlow id="fa" sourceRef="Fork" targetRef="Gateway_3" /><bpmn:sequenceFlow id="fb" sourceRef="Fork" targetRef="Gateway_3" />
      <bpmn:complexGateway id="Gateway_3" /><bpmn:sequenceFlow id="f2" sourceRef="Gateway_3" targetRef="End" /><bpmn:endEvent id="End" />`,
    );
    Then('it is deployed for viewing, and starting it names the element', async () => {
      const [report] = (await upload(xml, 'complex.bpmn').expect(201)).body.files as FileReport[];
      assert.deepEqual(report!.processes, [
        { key: 'complex', name: 'complex', executable: true, runs: false, notExecuted: ['complexGateway <Gateway_3>: it joins without an activationCondition, which says when it fires'] },
      ]);
      const listed = (await t.as(DEMO).get('/api/processes').expect(200)).body.find((process: { key: string }) => process.key === 'complex');
      assert.equal(listed.executable, false);
      const start = await t.as(DEMO).post('/api/processes/complex/instances').send({}).expect(400);
      assert.equal(start.type, 'application/problem+json');
      assert.equal(start.body.detail, 'process <complex> is deployed for viewing only: Baton does not execute it');
      assert.deepEqual(start.body.problems, [{ path: 'Gateway_3', message: 'complexGateway <Gateway_3>: it joins without an activationCondition, which says when it fires' }]);
      assert.equal((await t.as(DEMO).get('/api/instances?processKey=complex').expect(200)).body.total, 0);
    });
  });

  Scenario('a file without any process: a collaboration of empty pools', () => {
    const xml = definitions(
      'Definitions_talk',
      `<bpmn:collaboration id="Talk"><bpmn:participant id="Buyer" /><bpmn:participant id="Seller" />
      <bpmn:messageFlow id="Order" sourceRef="Buyer" targetRef="Seller" /></bpmn:collaboration>`,
    );
    Then('its diagram is stored under the id of its definitions, for viewing only', async () => {
      const [report] = (await upload(xml, 'talk.bpmn').expect(201)).body.files as FileReport[];
      assert.deepEqual(report!.processes, [
        { key: 'Definitions_talk', name: 'Definitions_talk', executable: false, runs: false, notExecuted: ['the file holds no process: deployed for viewing'] },
      ]);
      assert.equal((await t.as(DEMO).get('/api/processes/Definitions_talk/xml').expect(200)).text, xml);
      await t.as(DEMO).post('/api/processes/Definitions_talk/instances').send({}).expect(400);
    });
  });

  Scenario('Camunda 8 (Zeebe) files: job types are topics, assignment definitions assign', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_zeebe" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="archive" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Check" />
    <bpmn:userTask id="Check"><bpmn:extensionElements><zeebe:assignmentDefinition assignee="mary" candidateGroups="accounting, audit" /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Check" targetRef="Archive" />
    <bpmn:serviceTask id="Archive"><bpmn:extensionElements><zeebe:taskDefinition type="invoice.archive" retries="2" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Archive" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
</bpmn:definitions>`;
    let id: string;
    Given('a Zeebe file is deployed and started', async () => {
      await deploy(t.as(DEMO), xml, 'archive.bpmn');
      id = (await t.as(DEMO).post('/api/processes/archive/instances').send({}).expect(201)).body.id;
    });
    When('mary completes the user task assigned to her', async () => {
      const [task] = (await t.as(MARY).get(`/api/tasks?instanceId=${id}`).expect(200)).body.items;
      assert.equal(task.assignee, 'mary');
      assert.deepEqual(task.candidateGroups, ['accounting', 'audit']);
      await t.as(MARY).post(`/api/tasks/${task.id}/complete`).send({}).expect(204);
    });
    Then('a worker fetches the job by its zeebe type and completing it ends the instance', async () => {
      const [job] = await fetchTasks(t.as(WORKER), 'invoice.archive');
      assert.equal(job?.instanceId, id);
      await t.as(WORKER).post(`/api/external-tasks/${job!.id}/complete`).send({ workerId: 'test-worker' }).expect(204);
      assert.equal((await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body.status, 'completed');
    });
  });
});

Feature('Deployment refuses files that break a rule of the BPMN specification', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
  });
  after(() => t.close());

  /** Deploys a process body and returns the problems of the 400 answer, after checking nothing was stored. */
  const refused = async (id: string, body: string): Promise<{ path?: string; message: string }[]> => {
    const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(bpmn(id, body)), `${id}.bpmn`).expect(400);
    assert.equal(res.type, 'application/problem+json');
    await t.as(DEMO).get(`/api/processes/${id}`).expect(404);
    return res.body.problems;
  };

  Scenario('each violation names the rule and the element', () => {
    Then('a start event with an incoming sequence flow', async () => {
      const problems = await refused(
        'loop',
        `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Work" /><bpmn:task id="Work" />
        <bpmn:sequenceFlow id="back" sourceRef="Work" targetRef="Start" />`,
      );
      assert.deepEqual(problems, [{ path: 'Start', message: 'loop.bpmn: EXT.112: startEvent <Start>: a StartEvent must not have incoming sequence flows' }]);
    });

    Then('a sequence flow crossing the boundary of a sub-process', async () => {
      const problems = await refused(
        'crossing',
        `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="into" sourceRef="Start" targetRef="Inner" />
        <bpmn:subProcess id="Sub"><bpmn:task id="Inner" /></bpmn:subProcess>`,
      );
      assert.deepEqual(problems, [
        { path: 'into', message: 'crossing.bpmn: EXT.152: sequenceFlow <into>: it crosses the boundary of a sub-process to task <Inner>; sequence flows stay inside one process level' },
      ]);
    });

    Then('a gateway whose default flow has a condition', async () => {
      const problems = await refused(
        'defaulted',
        `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Split" />
        <bpmn:exclusiveGateway id="Split" default="Otherwise" />
        <bpmn:sequenceFlow id="Large" sourceRef="Split" targetRef="End"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${amount &gt; 100}</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="Otherwise" sourceRef="Split" targetRef="End"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${amount &lt;= 100}</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:endEvent id="End" />`,
      );
      assert.deepEqual(problems, [
        { path: 'Split', message: 'defaulted.bpmn: EXT.026: exclusiveGateway <Split>: its default flow <Otherwise> has a condition; a default flow is taken when no condition holds' },
      ]);
    });

    Then('a reference to an element the file does not have, and one to an element of the wrong kind', async () => {
      const problems = await refused(
        'dangling',
        `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Nowhere" />
        <bpmn:intermediateCatchEvent id="Wait"><bpmn:messageEventDefinition id="Def" messageRef="Start" /></bpmn:intermediateCatchEvent>`,
      );
      assert.deepEqual(
        problems.map((problem) => problem.message),
        [
          'dangling.bpmn: REF: sequenceFlow <f1>: the reference <Nowhere> (bpmn:targetRef) names no element of the file',
          'dangling.bpmn: REF: messageEventDefinition <Def>: messageRef <Start> is a StartEvent, not a Message',
        ],
      );
    });
  });
});
