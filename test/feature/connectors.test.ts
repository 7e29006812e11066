import assert from 'node:assert/strict';
import { DEMO, MARY, WORKER, bpmn, deploy, fetchTasks, readProcess, startBaton, type TestBaton } from '../helpers/baton.ts';
import { ADMIN_PHONE, SENDER, connectorEnv, operatorView } from '../helpers/connectors.ts';
import { startSmtpServer, type SmtpSink } from '../helpers/smtp.ts';
import { startTwilioEndpoint, type TwilioEndpoint } from '../helpers/twilio-endpoint.ts';

const SECOND = 1000;
const DAY = 86_400_000;

Feature('The salary process tells the administrator and the managers what happened', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let t: TestBaton;
  let smtp: SmtpSink;
  let twilio: TwilioEndpoint;
  const { instance, history, incidents } = operatorView(() => t);
  before(async () => {
    smtp = await startSmtpServer();
    twilio = await startTwilioEndpoint();
    t = await startBaton({ env: connectorEnv(smtp, twilio) });
    await deploy(t.as(DEMO), readProcess('processes/salary/salary.bpmn'), 'salary.bpmn');
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
    await twilio?.close();
  });

  Scenario('the bonus system is down: retries, an incident, an SMS; back up, an operator retries and the run goes on', () => {
    let id: string;
    let bonusJob: string;
    let approvalTask: string;

    Given('a salary run for E-100 whose salary base is computed', async () => {
      id = (await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-100' } }).expect(201)).body.id;
      const [base] = await fetchTasks(t.as(WORKER), 'accounting.salary-base', 'accounting');
      await t.as(WORKER).post(`/api/external-tasks/${base!.id}/complete`).send({ workerId: 'accounting', variables: { salaryBase: 5200 } }).expect(204);
      assert.equal((await t.baton.connectors.tick()), 0, 'no connector work yet');
    });

    When('the bonus worker cannot reach the bonus system, three times, 10 s apart as the model says (R3/PT10S)', async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [task] = await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus');
        assert.ok(task, `attempt ${attempt} is offered`);
        bonusJob = task.id;
        assert.equal(task.retries, attempt === 1 ? null : 4 - attempt);
        await t.as(WORKER).post(`/api/external-tasks/${task.id}/failure`).send({ workerId: 'bonus', errorMessage: 'bonus system unreachable' }).expect(204);
        if (attempt < 3) {
          t.advance(9 * SECOND);
          assert.deepEqual(await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus'), [], 'not before the back-off');
          t.advance(SECOND + 1);
        }
      }
    });

    Then('the task is an incident that operators find, and each attempt is in the history', async () => {
      const found = await incidents('processKey=salary');
      assert.equal(found.total, 1);
      assert.deepEqual(
        { id: found.items[0].id, elementId: found.items[0].elementId, message: found.items[0].message, attempts: found.items[0].attempts, instanceId: found.items[0].instanceId },
        { id: bonusJob, elementId: 'CalculateBonus', message: 'bonus system unreachable', attempts: 3, instanceId: id },
      );
      assert.equal((await incidents('processKey=salary&elementId=CalculateSalaryBase')).total, 0);
      assert.equal((await incidents(`instanceId=${id}`)).total, 1);
      await t.as(MARY).get('/api/incidents').expect(403);
      const shown = await instance(id);
      assert.equal(shown.status, 'running');
      assert.deepEqual(shown.incidents.map((i: { elementId: string }) => i.elementId), ['CalculateBonus']);
      const failures = (await history(id)).filter((event) => event.type === 'job.failed');
      assert.deepEqual(failures.map((event) => [event.data?.attempt, event.data?.retries]), [[1, 2], [2, 1], [3, 0]]);
      assert.deepEqual(await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus'), []);
    });

    And('the administrator gets an SMS through Twilio with the text the model writes', async () => {
      await t.baton.connectors.tick();
      assert.equal(twilio.messages.length, 1);
      const [sms] = twilio.messages;
      assert.deepEqual({ to: sms!.to, from: sms!.from, body: sms!.body }, { to: ADMIN_PHONE, from: SENDER, body: 'Salary run for E-100 is stuck at Calculate bonus: bonus system unreachable' });
      const sent = (await history(id)).find((event) => event.type === 'job.completed' && event.user === 'baton-connectors');
      assert.equal(sms!.idempotencyToken, `${String(sent?.data?.jobId)}.1`);
      assert.deepEqual((sent?.data?.details as { sids: string[] }).sids, [sms!.sid]);
      assert.deepEqual((await instance(id)).notifications, []);
    });

    When('the bonus system is back and an operator retries the incident', async () => {
      await t.as(MARY).post(`/api/incidents/${bonusJob}/retry`).send({}).expect(403);
      await t.as(DEMO).post(`/api/incidents/${bonusJob}/retry`).send({}).expect(204);
      await t.as(DEMO).post(`/api/incidents/${bonusJob}/retry`).send({}).expect(409);
      const [task] = await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus');
      assert.equal(task?.id, bonusJob);
      assert.equal(task?.retries, 3, 'fresh retries');
      await t.as(WORKER).post(`/api/external-tasks/${bonusJob}/complete`).send({ workerId: 'bonus', variables: { bonus: 520 } }).expect(204);
    });

    Then('the managers are asked to approve, and mary gets an e-mail whose link opens the task', async () => {
      await t.baton.connectors.tick();
      const shown = await instance(id);
      approvalTask = shown.tasks[0].id;
      assert.equal(smtp.mails.length, 1);
      const [mail] = smtp.mails;
      assert.deepEqual(mail!.envelopeTo, ['mary@example.com']);
      assert.equal(mail!.from, 'baton@example.com');
      assert.match(mail!.subject, /^New task: Approve bonus/);
      const link = /https:\/\/baton\.example\.com\/tasks\/([\w-]+)/.exec(mail!.text);
      assert.equal(link?.[1], approvalTask, mail!.text);
      const task = await t.as(MARY).get(`/api/tasks/${link![1]}`).expect(200);
      assert.equal(task.body.name, 'Approve bonus');
      const sent = (await history(id)).filter((event) => event.type === 'job.completed' && event.user === 'baton-connectors').at(-1);
      assert.equal(mail!.messageId, `<${String(sent?.data?.jobId)}.1@example.com>`);
      assert.equal(await t.baton.connectors.tick(), 0, 'sent once');
    });

    When('two days pass without a decision', async () => {
      t.advance(2 * DAY + 1);
      await t.baton.scheduler.tick();
      await t.baton.connectors.tick();
    });

    Then('the reminder goes to the managers by e-mail', async () => {
      assert.equal(smtp.mails.length, 2);
      const reminder = smtp.mails[1]!;
      assert.deepEqual(reminder.envelopeTo, ['mary@example.com']);
      assert.equal(reminder.subject, 'Reminder: the bonus of E-100 waits for your approval');
      assert.match(reminder.text, /The bonus of employee E-100 \(520 EUR on a salary base of 5200 EUR\) has waited two days/);
      assert.match(reminder.text, new RegExp(`https://baton.example.com/instances/${id}`));
    });

    When('mary approves and the payroll is recorded', async () => {
      await t.as(MARY).post(`/api/tasks/${approvalTask}/complete`).send({ variables: { approved: true } }).expect(204);
      const [payroll] = await fetchTasks(t.as(WORKER), 'accounting.payroll', 'accounting');
      await t.as(WORKER).post(`/api/external-tasks/${payroll!.id}/complete`).send({ workerId: 'accounting', variables: { payrollId: 'PR-1' } }).expect(204);
    });

    Then('the run ends in "Salary paid" with no incident left', async () => {
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'SalaryPaid')?.status, 'completed');
      assert.equal((await incidents('processKey=salary')).total, 0);
      const types = (await history(id)).map((event) => event.type);
      assert.ok(types.includes('incident.created') && types.includes('incident.retried'));
    });
  });

  Scenario('an unknown employee: the SMS quotes the BPMN error', () => {
    let id: string;
    Given('a salary run for E-999 whose bonus system does not know the employee', async () => {
      id = (await t.as(DEMO).post('/api/processes/salary/instances').send({ variables: { employeeId: 'E-999' } }).expect(201)).body.id;
      const [bonus] = await fetchTasks(t.as(WORKER), 'bonus.calculate', 'bonus');
      await t.as(WORKER).post(`/api/external-tasks/${bonus!.id}/bpmn-error`).send({ workerId: 'bonus', errorCode: 'EMPLOYEE_UNKNOWN', errorMessage: 'no employee E-999' }).expect(204);
    });
    When('the connectors work', async () => {
      await t.baton.connectors.tick();
    });
    Then('the administrator got "Salary run for E-999 failed: no employee E-999" and the run ended', async () => {
      assert.equal(twilio.messages.at(-1)?.body, 'Salary run for E-999 failed: no employee E-999');
      assert.equal(twilio.messages.at(-1)?.to, ADMIN_PHONE);
      const shown = await instance(id);
      assert.equal(shown.status, 'completed');
      assert.equal(shown.variables.errorCode, 'EMPLOYEE_UNKNOWN');
      assert.equal(shown.elements.find((e: { id: string }) => e.id === 'SalaryRunFailed')?.status, 'completed');
    });
  });
});

Feature('Without credentials the connectors log what they would send', () => {
  let t: TestBaton;
  const { instance, history } = operatorView(() => t);
  before(async () => {
    t = await startBaton({ env: { BATON_CONNECTORS: 'sms,email,http' } });
    await deploy(
      t.as(DEMO),
      bpmn(
        'alert',
        `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Alert" />
    <bpmn:sendTask id="Alert" name="Alert" camunda:type="external" camunda:topic="notify.sms">
      <bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="body">Disk \${disk} is full</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Alert" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
      ),
      'alert.bpmn',
    );
  });
  after(() => t?.close());

  Scenario('what the connectors cannot run is refused at deployment', () => {
    Then('scripts in parameters, bad retry cycles and unknown connectors are named', async () => {
      const xml = bpmn(
        'refused',
        `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:serviceTask id="Call" camunda:type="http">
      <bpmn:extensionElements>
        <camunda:inputOutput><camunda:inputParameter name="url"><camunda:script scriptFormat="javascript">'http://x'</camunda:script></camunda:inputParameter></camunda:inputOutput>
        <camunda:failedJobRetryTimeCycle>R3/10s</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="Mail" />
    <bpmn:serviceTask id="Mail"><bpmn:extensionElements><camunda:connector><camunda:connectorId>mail-send</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Mail" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
      );
      const res = await t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), 'refused.bpmn').expect(400);
      assert.deepEqual(res.body.problems.map((problem: { message: string }) => problem.message), [
        'refused.bpmn: <Call>: input parameter "url" is a Script; scripts are refused, use ${...}',
        'refused.bpmn: <Call>: failedJobRetryTimeCycle "R3/10s": "10s" is not an ISO 8601 duration such as PT10S',
        'refused.bpmn: <Mail>: connector "mail-send" is not available; Baton has http-connector',
      ]);
    });
  });

  Scenario('no Twilio and no SMTP configured', () => {
    Then('/health says the SMS and e-mail connectors only log', async () => {
      const res = await t.anonymous().get('/health').expect(200);
      assert.deepEqual(res.body, { status: 'ok', connectors: { sms: 'log', email: 'log', http: 'on' } });
    });
    And('an SMS task completes, with the message in the history', async () => {
      const id = (await t.as(DEMO).post('/api/processes/alert/instances').send({ variables: { disk: '/data' } }).expect(201)).body.id;
      await t.baton.connectors.tick();
      assert.equal((await instance(id)).status, 'completed');
      const sent = (await history(id)).find((event) => event.type === 'job.completed');
      assert.deepEqual(sent?.data?.details, { channel: 'sms', via: 'log', to: [], body: 'Disk /data is full' });
    });
  });
});
