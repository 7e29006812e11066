import assert from 'node:assert/strict';
import path from 'node:path';
import { DEMO, MARY, WORKER, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';
import { diagramElement, ensureWebAppBuilt, openBrowser, screenshot, signIn, type Browser } from './browser.ts';

const SALARY_FILE = path.join(import.meta.dirname, '../../processes/salary/salary.bpmn');

/** A loop with a layout: "Work" runs again while the worker says so. */
const LOOP = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_loop" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="loop" name="Loop" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:serviceTask id="Work" name="Work" camunda:type="external" camunda:topic="loop.work" />
    <bpmn:exclusiveGateway id="Again" name="Again?" default="ToEnd" />
    <bpmn:endEvent id="End" />
    <bpmn:sequenceFlow id="ToWork" sourceRef="Start" targetRef="Work" />
    <bpmn:sequenceFlow id="ToAgain" sourceRef="Work" targetRef="Again" />
    <bpmn:sequenceFlow id="Back" sourceRef="Again" targetRef="Work"><bpmn:conditionExpression>\${again}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="Again" targetRef="End" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_loop">
    <bpmndi:BPMNPlane id="Plane_loop" bpmnElement="loop">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start"><dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Work_di" bpmnElement="Work"><dc:Bounds x="200" y="78" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Again_di" bpmnElement="Again" isMarkerVisible="true"><dc:Bounds x="360" y="93" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_di" bpmnElement="End"><dc:Bounds x="470" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="ToWork_di" bpmnElement="ToWork"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="ToAgain_di" bpmnElement="ToAgain"><di:waypoint x="300" y="118" /><di:waypoint x="360" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Back_di" bpmnElement="Back"><di:waypoint x="385" y="143" /><di:waypoint x="385" y="200" /><di:waypoint x="250" y="200" /><di:waypoint x="250" y="158" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="ToEnd_di" bpmnElement="ToEnd"><di:waypoint x="410" y="118" /><di:waypoint x="470" y="118" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

/** Works both calculations of a salary run as the accounting and bonus systems would. */
async function calculate(t: TestBaton, instanceId: string): Promise<void> {
  const base = (await fetchTasks(t.as(WORKER), 'accounting.salary-base')).find((task) => task.instanceId === instanceId);
  const bonus = (await fetchTasks(t.as(WORKER), 'bonus.calculate')).find((task) => task.instanceId === instanceId);
  await t.as(WORKER).post(`/api/external-tasks/${base?.id}/complete`).send({ workerId: 'test-worker', variables: { salaryBase: 5200 } }).expect(204);
  await t.as(WORKER).post(`/api/external-tasks/${bonus?.id}/complete`).send({ workerId: 'test-worker', variables: { bonus: 520 } }).expect(204);
}

Feature('The web app: model, deploy, watch instances on their diagram, work the task list', () => {
  let t: TestBaton;
  let admin: Browser;
  let instanceId: string;
  before(async function () {
    this.timeout(120_000);
    await ensureWebAppBuilt();
    t = await startBaton();
    admin = await openBrowser();
    await signIn(admin.page, t.url, DEMO.user, DEMO.password);
  });
  after(async () => {
    await admin?.close();
    await t?.close();
  });

  Scenario('an analyst deploys the salary process from the modeler; problems show on their elements', () => {
    When('demo opens processes/salary/salary.bpmn in the modeler, gives the reminder timer a duration of "two days" and deploys', async () => {
      const { page } = admin;
      await page.getByRole('link', { name: 'Modeler' }).click();
      await page.waitForURL('**/modeler');
      await page.setInputFiles('#open-file', { name: 'salary.bpmn', mimeType: 'application/xml', buffer: Buffer.from(readProcess('processes/salary/salary.bpmn').replace('P2D</bpmn:timeDuration>', 'two days</bpmn:timeDuration>')) });
      await page.getByText('Opened salary.bpmn.').waitFor();
      await page.getByRole('button', { name: 'Deploy' }).click();
    });

    Then('nothing is deployed and the server\'s problem is marked on the timer "2 days passed" with its message', async () => {
      const { page } = admin;
      await page.getByText(/^Not deployed:/).waitFor();
      await page.locator('.modeler-canvas g.djs-element.baton-problem[data-element-id="ApprovalReminder"]').waitFor();
      const overlay = page.locator('.djs-overlays[data-container-id="ApprovalReminder"] .baton-problem-message');
      assert.match(await overlay.first().innerText(), /timeDuration "two days" is not a/);
      await t.as(DEMO).get('/api/processes/salary').expect(404);
      await screenshot(page, '01-modeler-deploy-problems');
    });

    When('demo opens the unchanged file, where the properties panel shows the topic of "Record payroll"', async () => {
      const { page } = admin;
      await page.setInputFiles('#open-file', SALARY_FILE);
      await page.getByText('Opened salary.bpmn.').waitFor();
      await page.locator('.modeler-canvas g.djs-element[data-element-id="RecordPayroll"]').click();
      await page.locator('.modeler-panel').getByText('Implementation', { exact: true }).click();
      assert.equal(await page.locator('.modeler-panel').getByLabel('Topic').inputValue(), 'accounting.payroll');
    });

    Then('"Save to disk" downloads the diagram as salary.bpmn', async () => {
      const { page } = admin;
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save to disk' }).click()]);
      assert.equal(download.suggestedFilename(), 'salary.bpmn');
      const chunks: Buffer[] = [];
      for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString('utf8'), /camunda:topic="accounting.payroll"/);
    });

    When('demo deploys it', async () => {
      await admin.page.getByRole('button', { name: 'Deploy' }).click();
    });

    Then('version 1 of the salary process is deployed and linked', async () => {
      const { page } = admin;
      await page.getByRole('link', { name: 'Salary calculation version 1' }).waitFor();
      assert.equal(await page.locator('.baton-problem').count(), 0);
      const res = await t.as(DEMO).get('/api/processes/salary').expect(200);
      assert.equal(res.body.versions[0].version, 1);
      await screenshot(page, '02-modeler-deployed');
    });
  });

  Scenario('an instance is started from the process page and shown on its diagram', () => {
    When('demo fills the start form of the salary process with employee E-100 and starts it', async () => {
      const { page } = admin;
      await page.getByRole('link', { name: 'Salary calculation version 1' }).click();
      await page.getByLabel('Employee').fill('E-100');
      await page.getByLabel('Business key (optional)').fill('run-E-100');
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await page.waitForURL(/\/instances\/[0-9a-f-]{36}$/);
      instanceId = page.url().split('/').pop() ?? '';
    });

    Then('the instance view shows both calculations active and the start event completed', async () => {
      const { page } = admin;
      await diagramElement(page, 'CalculateSalaryBase').and(page.locator('.baton-active')).waitFor();
      await diagramElement(page, 'CalculateBonus').and(page.locator('.baton-active')).waitFor();
      await diagramElement(page, 'SalaryRunRequested').and(page.locator('.baton-completed')).waitFor();
      await page.locator('.djs-connection.baton-taken[data-element-id="Flow_RequestedToCalculation"]').waitFor({ state: 'attached' });
      assert.equal(await page.getByTestId('instance-status').innerText(), 'running');
      await page.getByRole('cell', { name: 'E-100' }).waitFor();
      await screenshot(page, '03-instance-started');
    });
  });

  Scenario('mary works "Approve bonus" in the task list while the instance view follows live', () => {
    let mary: Browser;
    after(() => mary?.close());

    Given('the calculations are done and the instance view, open in demo\'s browser, shows "Approve bonus" waiting', async () => {
      await admin.page.evaluate(() => {
        (window as unknown as { batonNotReloaded?: boolean }).batonNotReloaded = true;
      });
      await calculate(t, instanceId);
      await diagramElement(admin.page, 'ApproveBonus').and(admin.page.locator('.baton-active')).waitFor();
    });

    When('mary signs in and opens her task list', async () => {
      mary = await openBrowser();
      await signIn(mary.page, t.url, MARY.user, MARY.password, '/tasks');
      await mary.page.getByRole('heading', { name: 'Tasks' }).waitFor();
      await screenshot(mary.page, '04-task-list-mary');
    });

    Then('she sees "Approve bonus" and opens it', async () => {
      await mary.page.getByRole('link', { name: 'Approve bonus' }).click();
      await mary.page.getByRole('heading', { name: 'Approve bonus' }).waitFor();
      await diagramElement(mary.page, 'ApproveBonus').and(mary.page.locator('.baton-selected')).waitFor();
    });

    And('what mary may not do is not offered: no modeler, no cancel on the instance she works in', async () => {
      const { page } = mary;
      assert.equal(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Modeler' }).count(), 0);
      await page.getByRole('link', { name: 'instance', exact: true }).click();
      await diagramElement(page, 'ApproveBonus').and(page.locator('.baton-active')).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Cancel instance' }).count(), 0);
      await page.goBack();
      await page.getByRole('heading', { name: 'Approve bonus' }).waitFor();
    });

    When('she completes the form without answering the required question', async () => {
      await mary.page.getByLabel('Comment').fill('fine by me');
      await mary.page.getByRole('button', { name: 'Complete' }).click();
    });

    Then('the server\'s message is shown next to that field and the task stays open', async () => {
      const message = mary.page.locator('[data-field="approved"] .field-error');
      await message.getByText('Approve the bonus? is required').waitFor();
      assert.equal(await mary.page.locator('fieldset[data-field="approved"]').getAttribute('aria-invalid'), 'true');
      const tasks = await t.as(MARY).get('/api/tasks').expect(200);
      assert.equal(tasks.body.items.length, 1);
      await screenshot(mary.page, '05-task-form-required');
    });

    When('she answers Yes and completes it', async () => {
      await mary.page.getByLabel('Yes').check();
      await mary.page.getByRole('button', { name: 'Complete' }).click();
      await mary.page.getByRole('heading', { name: 'Task completed' }).waitFor();
    });

    Then('demo\'s instance view turns "Record payroll" active without reloading', async () => {
      await diagramElement(admin.page, 'RecordPayroll').and(admin.page.locator('.baton-active')).waitFor();
      await diagramElement(admin.page, 'ApproveBonus').and(admin.page.locator('.baton-completed')).waitFor();
    });

    When('the accounting system records the payroll', async () => {
      const [payroll] = await fetchTasks(t.as(WORKER), 'accounting.payroll');
      await t.as(WORKER).post(`/api/external-tasks/${payroll?.id}/complete`).send({ workerId: 'test-worker', variables: { payrollId: 'PR-1' } }).expect(204);
    });

    Then('"Record payroll" and the end event "Salary paid" turn completed, still without reloading', async () => {
      const { page } = admin;
      await diagramElement(page, 'RecordPayroll').and(page.locator('.baton-completed')).waitFor();
      await diagramElement(page, 'SalaryPaid').and(page.locator('.baton-completed')).waitFor();
      await page.getByTestId('instance-status').getByText('completed').waitFor();
      assert.equal(await page.evaluate(() => (window as unknown as { batonNotReloaded?: boolean }).batonNotReloaded), true);
      await page.getByText('instance.completed').waitFor();
      await screenshot(page, '06-instance-completed-live');
    });
  });

  Scenario('an incident is shown red with its message and retried from the page', () => {
    let failing: string;
    Given('a salary run whose bonus system gave up (retries 0)', async () => {
      const res = await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-101' }, businessKey: 'run-E-101' }).expect(201);
      failing = res.body.id;
      const [bonus] = (await fetchTasks(t.as(WORKER), 'bonus.calculate')).filter((task) => task.instanceId === failing);
      await t.as(WORKER).post(`/api/external-tasks/${bonus?.id}/failure`).send({ workerId: 'test-worker', errorMessage: 'bonus system answers 503', retries: 0 }).expect(204);
    });

    When('demo opens the instance', async () => {
      await admin.page.goto(`${t.url}/instances/${failing}`);
    });

    Then('"Calculate bonus" is red on the diagram with the message, and listed as an incident', async () => {
      const { page } = admin;
      await diagramElement(page, 'CalculateBonus').and(page.locator('.baton-failed')).waitFor();
      await page.locator('.diagram .baton-badge-failed').getByText('bonus system answers 503').waitFor();
      await page.locator('.incidents').getByText('bonus system answers 503').waitFor();
      const color = await diagramElement(page, 'CalculateBonus').locator('.djs-visual > rect').evaluate((rect) => getComputedStyle(rect).stroke);
      assert.equal(color, 'rgb(179, 38, 30)');
      await screenshot(page, '07-incident');
    });

    When('demo presses "Retry Calculate bonus"', async () => {
      await admin.page.getByRole('button', { name: 'Retry Calculate bonus' }).click();
    });

    Then('the incident is gone and "Calculate bonus" is active again', async () => {
      const { page } = admin;
      await diagramElement(page, 'CalculateBonus').and(page.locator('.baton-active')).waitFor();
      assert.equal(await page.locator('.incidents').count(), 0);
      const incidents = await t.as(DEMO).get(`/api/incidents?instanceId=${failing}`).expect(200);
      assert.equal(incidents.body.total, 0);
      await screenshot(page, '08-incident-retried');
    });
  });

  Scenario('the pages work at a narrow 400 px width', () => {
    let narrow: Browser;
    after(() => narrow?.close());
    When('mary opens the task list and demo the process page on a 400 px wide screen', async () => {
      narrow = await openBrowser({ width: 400, height: 800 });
      await signIn(narrow.page, t.url, DEMO.user, DEMO.password, '/processes/salary');
      await diagramElement(narrow.page, 'ApproveBonus').waitFor();
    });
    Then('nothing is wider than the screen', async () => {
      const width = await narrow.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 400, `page is ${width} px wide`);
      await screenshot(narrow.page, '09-process-narrow');
      await narrow.page.goto(`${t.url}/instances`);
      await narrow.page.getByRole('heading', { name: 'Instances' }).waitFor();
      await screenshot(narrow.page, '10-instances-narrow');
    });
  });

  Scenario('the processes page counts active instances and incidents per element; instances filter by status and start time; cancel', () => {
    When('demo opens the salary process', async () => {
      const [bonus] = await fetchTasks(t.as(WORKER), 'bonus.calculate');
      await t.as(WORKER).post(`/api/external-tasks/${bonus?.id}/failure`).send({ workerId: 'test-worker', errorMessage: 'still down', retries: 0 }).expect(204);
      await admin.page.goto(`${t.url}/processes/salary`);
    });
    Then('"Calculate bonus" has a badge of 1 active instance and 1 incident, and the finished path is coloured by heat', async () => {
      const { page } = admin;
      const overlays = page.locator('.djs-overlays[data-container-id="CalculateBonus"]');
      await overlays.locator('.baton-badge-active').getByText('1', { exact: true }).waitFor();
      await overlays.locator('.baton-badge-incident').getByText('1', { exact: true }).waitFor();
      await page.locator('.diagram g.djs-element[data-element-id="SalaryRunRequested"][class*="baton-heat-"]').waitFor();
      await screenshot(page, '11-process-badges-heat');
      await page.goto(`${t.url}/instances?status=running`);
      await page.getByRole('link', { name: 'run-E-101' }).waitFor();
      assert.deepEqual(admin.errors.filter((error) => /Content Security Policy/i.test(error)), [], 'no page broke the CSP');
      assert.equal(await page.getByRole('link', { name: 'run-E-100' }).count(), 0);
      await screenshot(page, '12-instances-filtered');
      await page.getByLabel('Status').selectOption('');
      await page.getByLabel('Started from').fill('2999-01-01T00:00');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No instance matches.').waitFor();
      await page.getByLabel('Started from').fill('2000-01-01T00:00');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('link', { name: 'run-E-100' }).waitFor();
      await page.getByRole('link', { name: 'run-E-101' }).waitFor();
      assert.deepEqual(admin.errors.filter((error) => /Content Security Policy/i.test(error)), [], 'no page broke the CSP');
    });
    When('demo opens run-E-101 from the list and cancels it', async () => {
      const { page } = admin;
      await page.getByRole('link', { name: 'run-E-101' }).click();
      await page.getByRole('button', { name: 'Cancel instance' }).click();
    });
    Then('the instance view shows it cancelled and offers no cancel any more', async () => {
      const { page } = admin;
      await page.getByTestId('instance-status').getByText('cancelled').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Cancel instance' }).count(), 0);
      await screenshot(page, '12b-instance-cancelled');
    });
  });

  Scenario('an element that ran more than once shows how often', () => {
    let loopId: string;
    Given('an instance whose "Work" ran twice, the loop taken once', async () => {
      await deploy(t.as(DEMO), LOOP, 'loop.bpmn');
      const res = await t.as(DEMO).post('/api/processes/loop/instances').send({}).expect(201);
      loopId = res.body.id;
      for (const again of [true, false]) {
        const [job] = (await fetchTasks(t.as(WORKER), 'loop.work')).filter((task) => task.instanceId === loopId);
        await t.as(WORKER).post(`/api/external-tasks/${job?.id}/complete`).send({ workerId: 'test-worker', variables: { again } }).expect(204);
      }
    });
    Then('the instance view marks "Work" completed with a badge ×2 and the way back as taken', async () => {
      const { page } = admin;
      await page.goto(`${t.url}/instances/${loopId}`);
      await diagramElement(page, 'Work').and(page.locator('.baton-completed')).waitFor();
      await page.locator('.djs-overlays[data-container-id="Work"] .baton-badge-count').getByText('×2').waitFor();
      await page.locator('.djs-connection.baton-taken[data-element-id="Back"]').waitFor({ state: 'attached' });
      await diagramElement(page, 'End').and(page.locator('.baton-completed')).waitFor();
      await screenshot(page, '13-element-ran-twice');
    });
  });
});
