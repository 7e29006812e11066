import assert from 'node:assert/strict';
import type { ScriptLanguage } from '../../server/engine/scripts.ts';
import { DEMO, deploy, startBaton, type Agent, type TestBaton } from '../helpers/baton.ts';

/**
 * A call activity that calls a global task of its file does what that task does (BPMN 2.0, 10.3.6):
 * a globalScriptTask runs its script — written, as the XSD has it, in a `<script>` child element, in
 * the language its scriptLanguage names — under the same rules as a script task.
 */

/** a script language of the test: greets the instance's `name` and says which element ran it */
const GREETING: ScriptLanguage = {
  format: 'x-greeting',
  check(script) {
    if (!script.trim()) throw new Error('the greeting is empty');
  },
  run(script, { variables, elementId }) {
    return { variables: { greeting: `${script.trim()} ${String(variables.name)}`, greetedBy: elementId } };
  },
};

/** a process calling the global task `called`, defined before the process as modelers write it */
const calling = (key: string, globalTask: string, called: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_${key}" targetNamespace="http://bpmn.io/schema/bpmn">
  ${globalTask}
  <bpmn:process id="${key}" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:callActivity id="Call" calledElement="${called}" />
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
</bpmn:definitions>`;

const GREET = '<bpmn:globalScriptTask id="Greet" name="Greet" scriptLanguage="x-greeting"><bpmn:script>Hello</bpmn:script></bpmn:globalScriptTask>';

/** the reasons a deployment gives for refusing a file or for deploying a process for viewing only */
async function deployReasons(agent: Agent, xml: string, key: string): Promise<string[]> {
  const res = await agent.post('/api/deployments').attach('file', Buffer.from(xml), `${key}.bpmn`);
  if (res.status === 400) return (res.body.problems as { message: string }[]).map((problem) => problem.message);
  assert.equal(res.status, 201, res.text);
  const { versions } = (await agent.get(`/api/processes/${key}`).expect(200)).body as { versions: { notExecuted?: { message: string }[] }[] };
  return versions.flatMap((version) => (version.notExecuted ?? []).map((problem) => problem.message));
}

Feature('Call activities run the global tasks of their file', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton({ env: { BATON_SCRIPT_FORMATS: 'x-greeting' }, scriptLanguages: [GREETING] });
  });
  after(() => t.close());

  const run = async (key: string, variables: object): Promise<{ status: string; variables: Record<string, unknown> }> => {
    const id = (await t.as(DEMO).post(`/api/processes/${key}/instances`).send({ variables }).expect(201)).body.id;
    return (await t.as(DEMO).get(`/api/instances/${id}`).expect(200)).body;
  };

  Scenario('a call of a global script task runs its script as the call activity', () => {
    Then('the script read from the <script> element ran with the instance variables and the instance completed', async () => {
      await deploy(t.as(DEMO), calling('greeting', GREET, 'Greet'), 'greeting.bpmn');
      const instance = await run('greeting', { name: 'Ada' });
      assert.equal(instance.status, 'completed');
      assert.equal(instance.variables.greeting, 'Hello Ada');
      assert.equal(instance.variables.greetedBy, 'Call');
    });
  });

  Scenario('the global script task is checked like a script task', () => {
    Then('a language the operator did not enable, or a script the language refuses, refuses the file naming the call', async () => {
      const javascript = calling('javascriptCall', GREET.replace('x-greeting', 'javascript'), 'Greet');
      assert.deepEqual(await deployReasons(t.as(DEMO), javascript, 'javascriptCall'), [
        'javascriptCall.bpmn: callActivity <Call> calls globalScriptTask <Greet>: has scriptLanguage "javascript", which is not enabled; enabled formats: x-greeting',
      ]);
      const empty = calling('emptyCall', GREET.replace('Hello', ' '), 'Greet');
      assert.deepEqual(await deployReasons(t.as(DEMO), empty, 'emptyCall'), ['emptyCall.bpmn: callActivity <Call> calls globalScriptTask <Greet>: the greeting is empty']);
    });
  });

  Scenario('other global tasks', () => {
    Then('a plain global task is a task with nothing to do', async () => {
      await deploy(t.as(DEMO), calling('nothing', '<bpmn:globalTask id="Nothing" />', 'Nothing'), 'nothing.bpmn');
      assert.equal((await run('nothing', {})).status, 'completed');
    });
    And('a global user task is deployed for viewing only, with the reason', async () => {
      const reasons = await deployReasons(t.as(DEMO), calling('userCall', '<bpmn:globalUserTask id="Approve" />', 'Approve'), 'userCall');
      assert.deepEqual(reasons, ['callActivity <Call>: calls the GlobalUserTask <Approve>; Baton runs call activities of processes and of global script tasks in the same file']);
    });
  });
});
