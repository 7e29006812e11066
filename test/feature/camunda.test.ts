import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BasicAuthInterceptor, Client, Variables, type Handler, type Task } from 'camunda-external-task-client-js';
import { modeler4Deploy, modeler5Deploy } from '../fixtures/camunda-modeler-requests.ts';
import { DEMO, MARY, WORKER, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';

/** Camunda's date format: 2024-01-31T09:30:00.000+0000. */
const CAMUNDA_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
const SALARY = readProcess('processes/salary/salary.bpmn');
const INVOICE = readProcess('test/fixtures/camunda-modeler-invoice.bpmn');

/** Waits for work done by the worker clients (not for timers): polls `check` until it passes. A client that began a 10 s long poll just before the test moved the clock fetches again only after it: 30 s leaves room for a loaded machine. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

Feature('Camunda Modeler deploys to Baton and starts instances', () => {
  let t: TestBaton;
  before(async () => (t = await startBaton()));
  after(() => t.close());

  Scenario('the modeler checks the endpoint, deploys the salary process and starts a run', () => {
    let deploymentId: string;
    let definitionId: string;

    Given('the modeler finds a REST API that wants credentials and answers its connection check', async () => {
      await t.anonymous().get('/engine-rest/deployment?maxResults=0').expect(401);
      const check = await t.as(DEMO).get('/engine-rest/deployment?maxResults=0').set('accept', 'application/json').expect(200);
      assert.deepEqual(check.body, []);
      const version = await t.as(DEMO).get('/engine-rest/version').expect(200);
      assert.equal(version.headers['content-type'], 'application/json');
      assert.deepEqual(version.body, { version: '7.22.0' });
    });

    When('Camunda Modeler 5 deploys salary.bpmn', async () => {
      const res = await modeler5Deploy(t.url, DEMO, { name: 'salary.bpmn', contents: SALARY }, 'salary');
      assert.equal(res.status, 200);
      assert.equal(res.contentType, 'application/json');
      deploymentId = res.body.id as string;
      assert.equal(res.body.name, 'salary');
      assert.equal(res.body.source, 'Camunda Modeler');
      assert.equal(res.body.tenantId, null);
      assert.match(res.body.deploymentTime as string, CAMUNDA_DATE);
      assert.deepEqual(res.body.links, [{ method: 'GET', href: `${t.url}/engine-rest/deployment/${deploymentId}`, rel: 'self' }]);
      const definitions = res.body.deployedProcessDefinitions as Record<string, Record<string, unknown>>;
      definitionId = `salary:1:${deploymentId}`;
      assert.deepEqual(Object.keys(definitions), [definitionId]);
      assert.deepEqual(definitions[definitionId], {
        id: definitionId,
        key: 'salary',
        category: 'http://bpmn.io/schema/bpmn',
        description: null,
        name: 'Salary calculation',
        version: 1,
        resource: 'salary.bpmn',
        deploymentId,
        diagram: null,
        suspended: false,
        tenantId: null,
        versionTag: null,
        historyTimeToLive: null,
        startableInTasklist: true,
      });
      for (const empty of ['deployedCaseDefinitions', 'deployedDecisionDefinitions', 'deployedDecisionRequirementsDefinitions']) {
        assert.equal(res.body[empty], null);
      }
    });

    Then('the deployment and its definition are listed as Camunda lists them', async () => {
      const deployments = await t.as(DEMO).get('/engine-rest/deployment').expect(200);
      assert.deepEqual(deployments.body.map((d: { id: string }) => d.id), [deploymentId]);
      assert.equal((await t.as(DEMO).get('/engine-rest/deployment/count').expect(200)).body.count, 1);
      const latest = await t.as(MARY).get('/engine-rest/process-definition?key=salary&latestVersion=true').expect(200);
      assert.deepEqual(latest.body.map((d: { id: string }) => d.id), [definitionId]);
      const xml = await t.as(MARY).get(`/engine-rest/process-definition/${definitionId}/xml`).expect(200);
      assert.equal(xml.body.bpmn20Xml, SALARY);
    });

    When('the unchanged diagram is deployed again', async () => {
      const res = await modeler5Deploy(t.url, DEMO, { name: 'salary.bpmn', contents: SALARY }, 'salary');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, deploymentId, 'duplicate filtering answers with the deployment that has the diagram');
      assert.equal(res.body.deployedProcessDefinitions, null);
    });

    Then('the modeler\'s "Start instance" starts a run of the deployed definition', async () => {
      const res = await t.as(DEMO)
        .post(`/engine-rest/process-definition/${definitionId}/start`)
        .set('content-type', 'application/json')
        .send({ businessKey: 'run-1', variables: { employeeId: { value: 'E-100', type: 'String' } } })
        .expect(200);
      assert.equal(res.body.definitionId, definitionId);
      assert.equal(res.body.businessKey, 'run-1');
      assert.equal(res.body.ended, false);
      assert.equal(res.body.suspended, false);
      const instance = await t.as(DEMO).get(`/engine-rest/process-instance/${res.body.id}`).expect(200);
      assert.equal(instance.body.id, res.body.id);
    });
  });

  Scenario('Camunda Modeler 4 deploys with deploy-changed-only as a chunked upload', () => {
    Given('the invoice diagram is deployed from Camunda Modeler 4', async () => {
      const res = await modeler4Deploy(t.url, DEMO, { name: 'invoice.bpmn', contents: INVOICE }, 'invoice');
      assert.equal(res.status, 200);
      const [id] = Object.keys(res.body.deployedProcessDefinitions as object);
      assert.equal(id, `invoice:1:${res.body.id}`);
    });

    When('the diagram changes and is deployed again', async () => {
      const changed = INVOICE.replace('name="Approve invoice"', 'name="Check and approve invoice"');
      const res = await modeler4Deploy(t.url, DEMO, { name: 'invoice.bpmn', contents: changed }, 'invoice');
      assert.equal(res.status, 200);
      const definitions = Object.values(res.body.deployedProcessDefinitions as Record<string, { key: string; version: number }>);
      assert.deepEqual(definitions.map((d) => [d.key, d.version]), [['invoice', 2]]);
    });

    Then('both versions are listed and the newest one starts', async () => {
      const versions = await t.as(DEMO).get('/engine-rest/process-definition?key=invoice').expect(200);
      assert.deepEqual(versions.body.map((d: { version: number }) => d.version), [2, 1]);
      await t.as(DEMO)
        .post('/engine-rest/process-definition/key/invoice/start')
        .send({ variables: { amount: { value: 1200, type: 'Long' } } })
        .expect(200);
      const old = await t.as(DEMO).post(`/engine-rest/process-definition/${versions.body[1].id}/start`).send({}).expect(400);
      assert.equal(old.body.type, 'InvalidRequestException');
    });
  });

  Scenario('a diagram Baton cannot run is refused in a way the modeler understands', () => {
    Then('a script task makes a ParseException with the ENGINE-09005 prefix the modeler looks for', async () => {
      const scripted = INVOICE.replace(
        /<bpmn:userTask id="ApproveInvoice"[^>]*>/,
        '<bpmn:scriptTask id="ApproveInvoice" name="Approve invoice" scriptFormat="javascript"><bpmn:script>1</bpmn:script>',
      ).replace('</bpmn:userTask>', '</bpmn:scriptTask>');
      const res = await modeler5Deploy(t.url, DEMO, { name: 'scripted.bpmn', contents: scripted }, 'scripted');
      assert.equal(res.status, 400);
      assert.equal(res.body.type, 'ParseException');
      assert.ok((res.body.message as string).startsWith('ENGINE-09005 Could not parse BPMN process.'), res.body.message as string);
      const details = res.body.details as Record<string, { errors: { mainElementId: string }[] }>;
      assert.ok(details['scripted.bpmn']?.errors.some((error) => error.mainElementId === 'ApproveInvoice'));
    });

    Then('a user who may not deploy gets 403 AuthorizationException', async () => {
      const res = await modeler5Deploy(t.url, MARY, { name: 'invoice.bpmn', contents: INVOICE }, 'invoice');
      assert.equal(res.status, 403);
      assert.equal(res.body.type, 'AuthorizationException');
      assert.equal(res.body.userId, 'mary');
    });
  });
});

/** A free TCP port, so a restarted Baton comes back where the worker clients look for it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const SALARY_BASE: Record<string, number> = { 'E-100': 5200, 'E-101': 6100, 'E-102': 4800 };
const BONUS: Record<string, number> = { 'E-100': 520, 'E-101': 915.5, 'E-102': 500 };

Feature("Camunda's external-task client runs the salary process on Baton", function (this: Mocha.Suite) {
  this.timeout(60_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-camunda-'));
  let port: number;
  let t: TestBaton;
  const clients: Client[] = [];
  /** attempts the accounting system fails before it answers, per employee */
  const outages = new Map<string, number>();
  /** what the workers saw and did */
  const seen = { retriesOnDelivery: new Map<string, (number | null)[]>(), sms: [] as string[], events: new Map<string, unknown[][]>() };

  const start = (): Promise<TestBaton> => startBaton({ env: { PORT: String(port), BATON_DATA_DIR: dataDir } });
  const count = (event: string): number => seen.events.get(event)?.length ?? 0;

  const worker = (workerId: string, topics: Record<string, Handler>): void => {
    const client = new Client({
      baseUrl: `http://127.0.0.1:${port}/engine-rest`,
      workerId,
      interceptors: new BasicAuthInterceptor({ username: WORKER.user, password: WORKER.password }),
      asyncResponseTimeout: 10_000,
      lockDuration: 600_000,
      interval: 50,
    });
    for (const event of ['complete', 'handleFailure', 'handleBpmnError', 'extendLock']) {
      for (const outcome of ['success', 'error']) {
        client.on(`${event}:${outcome}`, (...args: unknown[]) => seen.events.set(`${event}:${outcome}`, [...(seen.events.get(`${event}:${outcome}`) ?? []), args]));
      }
    }
    for (const [topic, handler] of Object.entries(topics)) client.subscribe(topic, handler);
    clients.push(client);
  };

  const employee = (task: Task): string => task.variables.get('employeeId') as string;
  const unknown = async (task: Task, taskService: Parameters<Handler>[0]['taskService'], system: string): Promise<void> => {
    await taskService.handleBpmnError(task, 'EMPLOYEE_UNKNOWN', `${system} does not know ${employee(task)}`);
  };

  before(async () => {
    port = await freePort();
    t = await start();
    await t.as(DEMO).post('/engine-rest/deployment/create').field('deployment-name', 'salary').attach('data', Buffer.from(SALARY), 'salary.bpmn').expect(200);
    worker('accounting', {
      'accounting.salary-base': async ({ task, taskService }) => {
        const id = employee(task);
        seen.retriesOnDelivery.set(id, [...(seen.retriesOnDelivery.get(id) ?? []), task.retries]);
        if (!(id in SALARY_BASE)) return unknown(task, taskService, 'accounting');
        const failing = outages.get(id) ?? 0;
        if (failing > 0) {
          outages.set(id, failing - 1);
          const retries = (task.retries ?? 3) - 1;
          return taskService.handleFailure(task, { errorMessage: 'accounting system unreachable', errorDetails: 'connect ECONNREFUSED', retries, retryTimeout: 60_000 });
        }
        await taskService.complete(task, new Variables().set('salaryBase', SALARY_BASE[id]));
      },
      'accounting.payroll': async ({ task, taskService }) => {
        assert.equal(task.variables.get('approved'), true);
        await taskService.complete(task, new Variables().set('payrollId', `PR-${employee(task)}`));
      },
    });
    worker('bonus', {
      'bonus.calculate': async ({ task, taskService }) => {
        const id = employee(task);
        if (!(id in BONUS)) return unknown(task, taskService, 'bonus');
        await taskService.extendLock(task, 900_000);
        await taskService.complete(task, new Variables().set('bonus', BONUS[id]));
      },
    });
    worker('notify', {
      'notify.sms': async ({ task, taskService }) => {
        seen.sms.push(employee(task));
        await taskService.complete(task);
      },
    });
  });

  after(async () => {
    for (const client of clients) client.stop();
    await t.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const startRun = async (employeeId: string, businessKey: string): Promise<string> => {
    const res = await t.as(DEMO)
      .post('/engine-rest/process-definition/key/salary/start')
      .send({ businessKey, variables: { employeeId: { value: employeeId, type: 'String', valueInfo: {} } } })
      .expect(200);
    assert.match(res.body.definitionId, /^salary:1:/);
    return res.body.id;
  };
  const approvalTask = (instanceId: string) =>
    eventually(async () => {
      const res = await t.as(MARY).get(`/engine-rest/task?processInstanceId=${instanceId}`).expect(200);
      assert.equal(res.body.length, 1, 'the approval task is there');
      return res.body[0] as { id: string; taskDefinitionKey: string; name: string; assignee: string | null; created: string };
    });
  const historic = (instanceId: string, state: string) =>
    eventually(async () => {
      const res = await t.as(DEMO).get(`/engine-rest/history/process-instance/${instanceId}`).expect(200);
      assert.equal(res.body.state, state);
      return res.body;
    });
  const activities = async (instanceId: string) =>
    (await t.as(DEMO).get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}`).expect(200)).body as {
      activityId: string;
      activityType: string;
      endTime: string | null;
      canceled: boolean;
      taskId: string | null;
      assignee: string | null;
    }[];
  const approve = async (taskId: string, approved: boolean): Promise<void> => {
    await t.as(MARY).post(`/engine-rest/task/${taskId}/claim`).send({ userId: 'mary' }).expect(204);
    await t.as(MARY)
      .post(`/engine-rest/task/${taskId}/complete`)
      .send({ variables: { approved: { value: approved, type: 'Boolean' }, comment: { value: 'checked', type: 'String' } } })
      .expect(204);
  };

  Scenario('a known employee is paid: the workers compute, a manager approves over /engine-rest', () => {
    let instanceId: string;
    let taskId: string;
    Given('a salary run for E-100 is started with typed variables', async () => {
      instanceId = await startRun('E-100', 'salary-E-100');
    });

    When('the accounting and bonus workers have done their part', async () => {
      const task = await approvalTask(instanceId);
      assert.equal(task.taskDefinitionKey, 'ApproveBonus');
      assert.equal(task.name, 'Approve bonus');
      assert.equal(task.assignee, null);
      assert.match(task.created, CAMUNDA_DATE);
      taskId = task.id;
    });

    Then('their results are process variables with Camunda types, and the bonus worker extended its lock', async () => {
      const res = await t.as(DEMO).get(`/engine-rest/process-instance/${instanceId}/variables`).expect(200);
      assert.deepEqual(res.body.salaryBase, { value: 5200, type: 'Integer', valueInfo: {} });
      assert.deepEqual(res.body.bonus, { value: 520, type: 'Integer', valueInfo: {} });
      assert.deepEqual(res.body.employeeId, { value: 'E-100', type: 'String', valueInfo: {} });
      assert.ok(count('extendLock:success') >= 1);
      assert.equal(count('extendLock:error'), 0);
    });

    When('mary claims the task, reads its form and approves it with typed variables', async () => {
      const form = await t.as(MARY).get(`/engine-rest/task/${taskId}/form-variables`).expect(200);
      assert.deepEqual(form.body.approved, { value: null, type: 'Boolean', valueInfo: {} });
      assert.deepEqual(form.body.salaryBase, { value: 5200, type: 'Integer', valueInfo: {} });
      await approve(taskId, true);
    });

    Then('the payroll worker records the payroll and the run ends in "Salary paid"', async () => {
      const run = await historic(instanceId, 'COMPLETED');
      assert.equal(run.processDefinitionKey, 'salary');
      assert.equal(run.businessKey, 'salary-E-100');
      assert.match(run.endTime, CAMUNDA_DATE);
      const gone = await t.as(DEMO).get(`/engine-rest/process-instance/${instanceId}`).expect(404);
      assert.deepEqual(gone.body, { type: 'InvalidRequestException', message: `Process instance with id ${instanceId} does not exist` });
      const ran = await activities(instanceId);
      const paid = ran.find((a) => a.activityId === 'SalaryPaid');
      assert.equal(paid?.activityType, 'noneEndEvent');
      assert.match(paid?.endTime ?? '', CAMUNDA_DATE);
      const approval = ran.find((a) => a.activityId === 'ApproveBonus');
      assert.deepEqual([approval?.activityType, approval?.taskId, approval?.assignee], ['userTask', taskId, 'mary']);
      assert.equal(ran.some((a) => a.activityId === 'SmsAdministrator'), false);
    });
  });

  Scenario('a failed call is retried once the retry timeout the worker asked for has passed', () => {
    let instanceId: string;
    Given('the accounting system is unreachable once for E-101', async () => {
      outages.set('E-101', 1);
      instanceId = await startRun('E-101', 'salary-E-101');
    });

    When('the accounting worker reports the failure with 2 retries left and a 1 minute timeout', async () => {
      await eventually(async () => assert.deepEqual(seen.retriesOnDelivery.get('E-101'), [null]));
      await eventually(async () => assert.equal(outages.get('E-101'), 0));
      await eventually(async () => assert.ok(count('handleFailure:success') >= 1));
    });

    Then('no incident is raised', async () => {
      const incidents = await t.as(DEMO).get(`/engine-rest/incident?processInstanceId=${instanceId}`).expect(200);
      assert.deepEqual(incidents.body, []);
    });

    When('a minute passes', () => {
      t.advance(60_001);
    });

    Then('the worker gets the task again, with its retries, and completes it', async () => {
      await approvalTask(instanceId);
      assert.deepEqual(seen.retriesOnDelivery.get('E-101'), [null, 2]);
      const res = await t.as(DEMO).get(`/engine-rest/process-instance/${instanceId}/variables/salaryBase`).expect(200);
      assert.deepEqual(res.body, { value: 6100, type: 'Integer', valueInfo: {} });
      const bonus = await t.as(DEMO).get(`/engine-rest/process-instance/${instanceId}/variables/bonus`).expect(200);
      assert.deepEqual(bonus.body, { value: 915.5, type: 'Double', valueInfo: {} });
    });
  });

  Scenario('when the retries run out, an operator sees the incident at /engine-rest/incident', () => {
    let instanceId: string;
    Given('the accounting system stays unreachable for E-102', async () => {
      outages.set('E-102', 3);
      instanceId = await startRun('E-102', 'salary-E-102');
    });

    When('the worker fails three times, a minute apart', async () => {
      for (const attempt of [1, 2, 3]) {
        await eventually(async () => assert.equal(seen.retriesOnDelivery.get('E-102')?.length, attempt));
        await eventually(async () => assert.equal(outages.get('E-102'), 3 - attempt));
        if (attempt < 3) t.advance(60_001);
      }
      assert.deepEqual(seen.retriesOnDelivery.get('E-102'), [null, 2, 1]);
    });

    Then('the task has an incident and is no longer offered', async () => {
      const incidents = await eventually(async () => {
        const res = await t.as(DEMO).get(`/engine-rest/incident?processInstanceId=${instanceId}`).expect(200);
        assert.equal(res.body.length, 1);
        return res.body;
      });
      const [incident] = incidents;
      assert.equal(incident.incidentType, 'failedExternalTask');
      assert.equal(incident.activityId, 'CalculateSalaryBase');
      assert.equal(incident.incidentMessage, 'accounting system unreachable');
      assert.match(incident.incidentTimestamp, CAMUNDA_DATE);
      assert.equal((await t.as(DEMO).get('/engine-rest/incident/count').expect(200)).body.count, 1);
      t.advance(60_001);
      const offered = await t.as(WORKER)
        .post('/engine-rest/external-task/fetchAndLock')
        .send({ workerId: 'operator-probe', maxTasks: 10, topics: [{ topicName: 'accounting.salary-base', lockDuration: 1000 }] })
        .expect(200);
      assert.deepEqual(offered.body, []);
      assert.equal(seen.retriesOnDelivery.get('E-102')?.length, 3);
    });
  });

  Scenario('an unknown employee: a BPMN error from a worker ends the run in "Salary run failed"', () => {
    let instanceId: string;
    Given('a salary run for E-999', async () => {
      instanceId = await startRun('E-999', 'salary-E-999');
    });

    Then('the administrator gets an SMS and the run ends without an approval', async () => {
      await historic(instanceId, 'COMPLETED');
      assert.ok(count('handleBpmnError:success') >= 1);
      // the slower worker may find its task already withdrawn by the error: Camunda's 404
      for (const [, error] of seen.events.get('handleBpmnError:error') ?? []) assert.equal((error as { httpStatusCode: number }).httpStatusCode, 404);
      assert.deepEqual(seen.sms, ['E-999']);
      const ran = await activities(instanceId);
      assert.equal(ran.find((a) => a.activityId === 'SalaryRunFailed')?.endTime !== null, true);
      assert.equal(ran.some((a) => a.activityId === 'ApproveBonus'), false);
      assert.equal(ran.find((a) => a.activityId === 'CalculateSalary')?.canceled, true);
    });
  });

  Scenario('Baton restarts while a run waits for approval; workers and managers carry on', () => {
    let instanceId: string;
    let taskId: string;
    Given('a second run for E-100 waits for approval', async () => {
      instanceId = await startRun('E-100', 'salary-E-100-again');
      taskId = (await approvalTask(instanceId)).id;
    });

    When('Baton stops and comes back on the same port and data', async () => {
      await t.close();
      t = await start();
    });

    Then('mary approves through the restarted Baton and the still-polling payroll worker finishes the run', async () => {
      await approve(taskId, true);
      await historic(instanceId, 'COMPLETED');
      const ran = await activities(instanceId);
      assert.ok(ran.some((a) => a.activityId === 'SalaryPaid' && a.endTime !== null));
      assert.equal(count('complete:error'), 0);
    });
  });
});
