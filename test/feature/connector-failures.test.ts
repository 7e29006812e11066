import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';
import { closedPort, connectorEnv, operatorView } from '../helpers/connectors.ts';
import { startSmtpServer, type SmtpSink } from '../helpers/smtp.ts';
import { startTwilioEndpoint, type TwilioEndpoint } from '../helpers/twilio-endpoint.ts';

const SECOND = 1000;

Feature('Bad configuration gives a clear incident, never a crash, and nothing is lost', function (this: Mocha.Suite) {
  this.timeout(30_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-connectors-'));
  let t: TestBaton;
  let twilio: TwilioEndpoint;
  let smtp: SmtpSink | null = null;
  let smtpPort: number;
  const { instance, history, incidents } = operatorView(() => t);
  const APPROVAL = bpmn(
    'approval',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" name="Approve expense" camunda:assignee="mary" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
  );
  const TEXT = bpmn(
    'text',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Text" />
    <bpmn:sendTask id="Text" name="Text the customer" camunda:type="sms">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="to">\${phone}</camunda:inputParameter>
          <camunda:inputParameter name="body">Your order \${order} has shipped.</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Text" targetRef="Done" />
    <bpmn:endEvent id="Done" />`,
  );
  const boot = async (smtpUrl: string): Promise<TestBaton> => startBaton({ env: { ...connectorEnv({ url: smtpUrl }, twilio), BATON_DATA_DIR: dataDir } });

  before(async () => {
    twilio = await startTwilioEndpoint();
    // nothing listens there until the SMTP server starts on it
    smtpPort = await closedPort();
    t = await boot(`smtp://baton:smtp-secret@127.0.0.1:${smtpPort}`);
    await deploy(t.as(DEMO), APPROVAL, 'approval.bpmn');
    await deploy(t.as(DEMO), TEXT, 'text.bpmn');
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
    await twilio?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  Scenario('an invalid phone number: Twilio refuses it, the task is an incident at once', () => {
    let id: string;
    Given('an SMS task whose number is "12345"', async () => {
      id = (await t.as(DEMO).post('/api/processes/text/instances').send({ variables: { phone: '12345', order: 'A-1' } }).expect(201)).body.id;
      await t.baton.connectors.tick();
    });
    Then('the incident says what Twilio said, and Baton is fine', async () => {
      const shown = await instance(id);
      assert.equal(shown.incidents[0]?.message, "Twilio answered 400 to the SMS for 12345: The 'To' number 12345 is not a valid phone number. (Twilio error 21211, https://www.twilio.com/docs/errors/21211)");
      assert.equal(twilio.messages.length, 0);
      assert.equal((await t.anonymous().get('/health').expect(200)).body.connectors.sms, 'twilio');
    });
    When('an operator corrects the number and retries', async () => {
      await t.as(DEMO).post(`/api/incidents/${shown(await instance(id))}/retry`).send({ variables: { phone: '+41795550123' } }).expect(204);
      await t.baton.connectors.tick();
    });
    Then('the SMS is sent and the run completes', async () => {
      assert.deepEqual(twilio.messages.map((sms) => [sms.to, sms.body]), [['+41795550123', 'Your order A-1 has shipped.']]);
      assert.equal((await instance(id)).status, 'completed');
    });
  });

  Scenario('an unreachable SMTP server: three attempts, then an incident that says so', () => {
    let id: string;
    Given('a task for mary, who has an e-mail address', async () => {
      id = (await t.as(DEMO).post('/api/processes/approval/instances').send({}).expect(201)).body.id;
    });
    When('the e-mail cannot be delivered, three times 10 s apart (the server default R3/PT10S)', async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        await t.baton.connectors.tick();
        t.advance(10 * SECOND + 1);
      }
    });
    Then('the notification is an incident naming the SMTP server, and the task still waits', async () => {
      const found = await incidents(`instanceId=${id}`);
      assert.equal(found.total, 1);
      assert.equal(found.items[0].notification, 'task');
      assert.match(found.items[0].message, new RegExp(`^the SMTP server 127\\.0\\.0\\.1:${smtpPort} is not reachable: .*ECONNREFUSED`));
      assert.doesNotMatch(found.items[0].message, /smtp-secret/);
      const shown = await instance(id);
      assert.equal(shown.tasks.length, 1);
      assert.deepEqual(shown.externalTasks, []);
      assert.equal(shown.notifications[0].incident, found.items[0].message);
      assert.equal((await history(id)).filter((event) => event.type === 'job.failed').length, 3);
    });
  });

  Scenario('Baton restarts with the SMTP server up: what was pending is sent', () => {
    let waiting: string;
    let failed: string;
    let stoppedAt: number;
    Given('one more task whose e-mail failed once before Baton stopped', async () => {
      failed = (await incidents('processKey=approval')).items[0].instanceId;
      waiting = (await t.as(DEMO).post('/api/processes/approval/instances').send({}).expect(201)).body.id;
      await t.baton.connectors.tick();
      assert.equal((await history(waiting)).filter((event) => event.type === 'job.failed').length, 1);
      stoppedAt = t.now().getTime();
      await t.close();
    });
    When('Baton starts again on the same data with the SMTP server listening', async () => {
      smtp = await startSmtpServer(undefined, smtpPort);
      t = await boot(smtp.url);
      t.advance(stoppedAt - t.now().getTime()); // the clock goes on where the last run left it
    });
    Then('the pending e-mail goes out after its back-off, and the incident after an operator retries it', async () => {
      t.advance(10 * SECOND + 1);
      await t.baton.connectors.tick();
      const taskOf = async (id: string): Promise<string> => (await instance(id)).tasks[0].id;
      assert.equal(smtp!.mails.length, 1);
      assert.ok(smtp!.mails[0]!.text.includes(`/tasks/${await taskOf(waiting)}`));
      const [incident] = (await incidents(`instanceId=${failed}`)).items;
      await t.as(DEMO).post(`/api/incidents/${incident.id}/retry`).send({}).expect(204);
      await t.baton.connectors.tick();
      assert.equal(smtp!.mails.length, 2);
      assert.ok(smtp!.mails[1]!.text.includes(`/tasks/${await taskOf(failed)}`));
      assert.deepEqual(smtp!.mails.map((mail) => mail.envelopeTo), [['mary@example.com'], ['mary@example.com']]);
    });
  });
});

/** The id of an instance view's first incident. */
function shown(view: { incidents: { id: string }[] }): string {
  return view.incidents[0]!.id;
}
