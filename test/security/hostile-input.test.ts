/**
 * Hostile input: BPMN files that attack the XML parser or the expression evaluator, and request
 * bodies of the wrong type, size or shape. Every refusal is a problem+json 4xx naming the
 * problem, and nothing is written.
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { DEMO, MARY, WORKER, bpmn, deploy, startBaton, type TestBaton } from '../helpers/baton.ts';

const LIMIT = 1_000_000;

/** Asserts a problem+json answer with the status and returns it. */
function problem(res: Response, status: number): { detail: string; problems?: { path?: string; message: string }[] } {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.body.status, status);
  return res.body;
}

/** The text of a problem: detail and every problem's message. */
const wording = (body: { detail: string; problems?: { message: string }[] }): string => [body.detail, ...(body.problems ?? []).map((p) => p.message)].join(' | ');

/** subprocesses nested `depth` deep, without start events: each starts the one inside it */
const nested = (depth: number): string => {
  let body = '';
  for (let i = 0; i < depth; i++) body += `<bpmn:subProcess id="Sub${i}">`;
  for (let i = 0; i < depth; i++) body += '</bpmn:subProcess>';
  return bpmn('nested', body);
};

/** A gateway whose condition is the expression under test. */
const condition = (expression: string): string =>
  bpmn(
    'escape',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Gate" />
    <bpmn:exclusiveGateway id="Gate" default="Normal" />
    <bpmn:sequenceFlow id="Escaped" sourceRef="Gate" targetRef="EndEscaped">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${expression.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Normal" sourceRef="Gate" targetRef="EndNormal" />
    <bpmn:endEvent id="EndEscaped" />
    <bpmn:endEvent id="EndNormal" />`,
  );

/** An external task whose input parameter is the expression under test. */
const inputParameter = (expression: string): string =>
  bpmn(
    'escape',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Call" />
    <bpmn:serviceTask id="Call" camunda:type="external" camunda:topic="escape">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="leak">${expression.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );

const ESCAPES = [
  '${constructor.constructor("return process")()}',
  '${amount.constructor.constructor("return process.env")()}',
  '${__proto__.polluted = true}',
  '${amount["__proto__"]}',
  "${amount['__pro' + 'to__']}",
  '${process.exit(1)}',
  '${process.env}',
  '${require("child_process").execSync("id")}',
  '${this.constructor}',
  '${this}',
  '${global.process}',
  '${Object.prototype}',
];

Feature('BPMN uploads that attack the parser or the engine are refused', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton({ env: { BATON_BODY_LIMIT_BYTES: String(LIMIT) } });
  });
  after(() => t.close());

  const upload = (xml: string | Buffer, name = 'attack.bpmn') => t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), name);
  const nothingDeployed = async (): Promise<void> => {
    assert.deepEqual((await t.as(DEMO).get('/api/processes').expect(200)).body, []);
  };

  Scenario('XML with a DOCTYPE, external entities or entity expansion', () => {
    const XXE = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
      <bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"><bpmn:process id="xxe" name="&xxe;" /></bpmn:definitions>`;
    let laughs = '<!ENTITY lol0 "lol">';
    for (let i = 1; i < 10; i++) laughs += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const LAUGHS = `<?xml version="1.0"?><!DOCTYPE d [${laughs}]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"><bpmn:process id="lol" name="&lol9;" /></bpmn:definitions>`;
    const PARAMETER = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;]><x/>`;

    Then('an external entity, a billion laughs and a parameter entity are each 400 naming the DOCTYPE, on both APIs', async () => {
      for (const xml of [XXE, LAUGHS, PARAMETER]) {
        assert.match(wording(problem(await upload(xml), 400)), /DOCTYPE or entity declarations is refused/);
        const camunda = await t.as(DEMO).post('/engine-rest/deployment/create').attach('upload', Buffer.from(xml), 'attack.bpmn');
        assert.equal(camunda.status, 400, camunda.text);
        assert.match(camunda.body.message, /DOCTYPE/);
      }
      await nothingDeployed();
    });
    Then('the same in UTF-16 is refused too', async () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(XXE.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]);
      problem(await upload(utf16), 400);
      await nothingDeployed();
    });
  });

  Scenario('uploads beyond the size limit', () => {
    const big = bpmn('big', `<bpmn:startEvent id="S"><bpmn:documentation>${'x'.repeat(LIMIT + 10)}</bpmn:documentation></bpmn:startEvent>`);
    Then('a multipart upload and an XML body over BATON_BODY_LIMIT_BYTES are 413', async () => {
      assert.match(problem(await upload(big), 413).detail, new RegExp(`exceeds ${LIMIT} bytes`));
      assert.match(problem(await t.as(DEMO).post('/api/deployments').type('application/xml').send(big), 413).detail, new RegExp(`exceeds ${LIMIT} bytes`));
      await nothingDeployed();
    });
  });

  Scenario('deeply nested and huge documents', () => {
    let rssBefore: number;
    Given('the memory this process holds', () => {
      rssBefore = process.memoryUsage().rss;
    });
    Then('subprocesses nested 20,000 deep are 400 naming the depth, quickly', async () => {
      const started = Date.now();
      assert.match(wording(problem(await upload(nested(20_000)), 400)), /nested deeper than 100 levels/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    });
    Then('elements nested 100,000 deep inside extension elements are 400 too', async () => {
      const deep = `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`;
      const xml = bpmn('deep', `<bpmn:startEvent id="S"><bpmn:extensionElements>${deep}</bpmn:extensionElements></bpmn:startEvent>`);
      assert.match(wording(problem(await upload(xml), 400)), /nested deeper than 100 levels/);
    });
    Then('a flood of 60,000 elements within the size limit is 400 naming the count', async () => {
      const xml = bpmn('flood', `<bpmn:startEvent id="S" />${'<bpmn:task/>'.repeat(60_000)}`);
      assert.ok(xml.length < LIMIT);
      assert.match(wording(problem(await upload(xml), 400)), /more than 10000 XML elements/);
      await nothingDeployed();
    });
    Then('subprocesses nested 50 deep are fine: deployed, started, completed', async () => {
      await deploy(t.as(DEMO), nested(50), 'nested.bpmn');
      const res = await t.as(DEMO).post('/api/processes/nested/instances').send({}).expect(201);
      assert.equal(res.body.status, 'completed');
    });
    Then('the deepest file the limit admits (98 subprocesses, 100 levels) deploys and runs: no stack overflow', async () => {
      await deploy(t.as(DEMO), nested(98).replace(/"nested"/g, '"deepest"'), 'deepest.bpmn');
      const res = await t.as(DEMO).post('/api/processes/deepest/instances').send({}).expect(201);
      assert.equal(res.body.status, 'completed');
    });
    Then('one level more is 400 naming the depth', async () => {
      assert.match(wording(problem(await upload(nested(99)), 400)), /nested deeper than 100 levels/);
    });
    Then('the server still answers and its memory grew by less than 300 MB', async () => {
      await t.as(DEMO).get('/api/processes').expect(200);
      const grown = (process.memoryUsage().rss - rssBefore) / 1e6;
      assert.ok(grown < 300, `RSS grew by ${grown.toFixed(0)} MB`);
    });
  });

  Scenario('a quote the parser tolerates does not hide nesting or a flood from the check (issue 15, finding 7)', () => {
    /** the first subprocess's tag holds the trick; the parser reads past it, a naive scanner reads to the end of the file */
    const nestedWith = (trick: string, depth = 20_000): string => nested(depth).replace('<bpmn:subProcess id="Sub0"', `<bpmn:subProcess id="Sub0"${trick}`);
    const floodWith = (trick: string): string => bpmn('flood', `<bpmn:startEvent id="S"${trick} />${'<a/>'.repeat(200_000)}`);
    const camundaUpload = (xml: string) => t.as(DEMO).post('/engine-rest/deployment/create').attach('upload', Buffer.from(xml), 'attack.bpmn');
    /** the reason in a refusal: problem+json on Baton's API, Camunda's {type, message} on the Camunda API */
    const refusal = (res: Response): string => {
      if (!res.type.startsWith('application/problem+json')) {
        assert.equal(res.status, 400, res.text.slice(0, 300));
        assert.equal(res.body.type, 'InvalidRequestException');
        return res.body.message;
      }
      return wording(problem(res, 400));
    };
    const processes = async (): Promise<unknown> => (await t.as(DEMO).get('/api/processes').expect(200)).body;
    let before: unknown;
    Given('the processes deployed so far', async () => {
      before = await processes();
    });

    /** Runs a request while asking /health every 100 ms; returns the answer and the slowest /health. */
    async function whileHealthIsAsked(request: () => PromiseLike<Response>): Promise<{ res: Response; slowest: number; took: number }> {
      let done = false;
      let slowest = 0;
      const started = Date.now();
      const asking = (async () => {
        while (!done) {
          const asked = Date.now();
          await t.anonymous().get('/health').expect(200);
          slowest = Math.max(slowest, Date.now() - asked);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const res = await request();
      const took = Date.now() - started;
      done = true;
      await asking;
      return { res, slowest, took };
    }

    Then('20,000 nested subprocesses behind an unbalanced quote are 400 quickly, on both APIs; /health answers within a second', async () => {
      for (const send of [upload, camundaUpload]) {
        const { res, slowest, took } = await whileHealthIsAsked(() => send(nestedWith(` x'`)));
        assert.match(refusal(res), /not well-formed XML: illegal attribute name char at line 6/);
        assert.ok(took < 5_000, `took ${took} ms`);
        assert.ok(slowest < 1_000, `/health took ${slowest} ms`);
      }
      assert.deepEqual(await processes(), before);
    });
    Then('200,000 elements behind an unbalanced quote are 400 quickly, on both APIs; /health answers within a second', async () => {
      for (const send of [upload, camundaUpload]) {
        const { res, slowest, took } = await whileHealthIsAsked(() => send(floodWith(` name='x`)));
        assert.match(refusal(res), /not well-formed XML: missing closing quotes at line 6/);
        assert.ok(took < 5_000, `took ${took} ms`);
        assert.ok(slowest < 1_000, `/health took ${slowest} ms`);
      }
      assert.deepEqual(await processes(), before);
    });
    Then('other quoting variants are each 400 naming what is wrong', async () => {
      const variants: [trick: string, reason: RegExp][] = [
        [` name="a" '`, /not well-formed XML: .* at line 6/],
        [` "`, /not well-formed XML/],
        [` name='a"'`, /nested deeper than 100 levels/],
        [` name="a'"`, /nested deeper than 100 levels/],
        [` name=a'`, /not well-formed XML: missing attribute value quotes/],
        [` a b`, /not well-formed XML: missing attribute value/],
        [` xx:name="a"`, /not well-formed XML: missing namespace for prefix <xx>/],
      ];
      for (const [trick, reason] of variants) assert.match(wording(problem(await upload(nestedWith(trick)), 400)), reason, trick);
      for (const [trick] of variants) problem(await upload(floodWith(trick)), 400);
      // a quote the parser reads as part of a value hides nothing: the flood is counted
      assert.match(wording(problem(await upload(floodWith(` name='a"'`)), 400)), /more than 10000 XML elements/);
      assert.deepEqual(await processes(), before);
    });
    Then('400,000 malformed attributes in one tag are 400 at the first, quickly', async () => {
      const started = Date.now();
      const xml = bpmn('attributes', `<bpmn:startEvent id="S"${' a'.repeat(400_000)} />`);
      assert.match(wording(problem(await upload(xml), 400)), /not well-formed XML: missing attribute value at line 6/);
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    });
    Then('nesting and floods inside comments, CDATA and processing instructions are text, as the parser reads them: such a file deploys', async () => {
      const hidden = `<!-- ${'<a>'.repeat(20_000)} --><bpmn:documentation><![CDATA[${'<b/>'.repeat(20_000)}]]></bpmn:documentation><?note ${'<c>'.repeat(20_000)}?>`;
      const deployed = await deploy(t.as(DEMO), bpmn('hidden', `${hidden}<bpmn:startEvent id="S" />`), 'hidden.bpmn');
      assert.deepEqual(deployed.processes.map((p) => p.key), ['hidden']);
    });
  });

  Scenario('a timer cycle that never rests', () => {
    Then('R/PT0S and R5/PT0.5S are 400 naming the cycle; R3/PT10S deploys', async () => {
      const cycling = (cycle: string): string =>
        bpmn('cycling', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T" />
        <bpmn:userTask id="T" camunda:assignee="demo" />
        <bpmn:boundaryEvent id="Tick" attachedToRef="T" cancelActivity="false">
          <bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">${cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>
        </bpmn:boundaryEvent>
        <bpmn:sequenceFlow id="f2" sourceRef="Tick" targetRef="Ticked" /><bpmn:endEvent id="Ticked" />
        <bpmn:sequenceFlow id="f3" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`);
      for (const cycle of ['R/PT0S', 'R5/PT0.5S']) {
        assert.match(wording(problem(await upload(cycling(cycle), 'cycling.bpmn'), 400)), new RegExp(`timer cycle ${cycle.replace('.', '\\.')} repeats more often than once every 1 s`));
      }
      const keys = (await t.as(DEMO).get('/api/processes').expect(200)).body.map((p: { key: string }) => p.key);
      assert.ok(!keys.includes('cycling'), 'nothing was deployed');
      await deploy(t.as(DEMO), cycling('R3/PT10S'), 'cycling.bpmn');
    });
  });

  Scenario('scripts never run from an uploaded file', () => {
    /** refused (400), or kept for viewing only: not runnable, naming the element, and starting it is refused */
    const neverRuns = async (xml: string, key: string, element: string): Promise<void> => {
      const res = await upload(xml, `${key}.bpmn`);
      if (res.status === 400) {
        assert.match(wording(problem(res, 400)), new RegExp(`<${element}>`));
        return;
      }
      assert.equal(res.status, 201, res.text);
      const process = res.body.files[0].processes.find((p: { key: string }) => p.key === key);
      assert.equal(process.runs, false, `${key} is not runnable`);
      assert.match(process.notExecuted.join(' '), new RegExp(`<${element}>`));
      const started = await t.as(DEMO).post(`/api/processes/${key}/instances`).send({});
      assert.ok(started.status >= 400 && started.status < 500, `starting ${key}: ${started.status} ${started.text}`);
      assert.equal(started.type, 'application/problem+json');
    };
    Then('a script task and a script condition are refused by default, naming the element', async () => {
      const task = bpmn('scripted', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="f" sourceRef="S" targetRef="Run" />
        <bpmn:scriptTask id="Run" scriptFormat="javascript"><bpmn:script>process.exit(1)</bpmn:script></bpmn:scriptTask>`);
      await neverRuns(task, 'scripted', 'Run');
      const cond = condition('${true}').replace('xsi:type="bpmn:tFormalExpression"', 'xsi:type="bpmn:tFormalExpression" language="javascript"');
      await neverRuns(cond, 'escape', 'Escaped');
      await t.as(DEMO).get('/api/processes').expect(200);
    });
  });

  Scenario('expressions that try to escape the sandbox', () => {
    Then('each is refused at deployment naming its element, or runs harmlessly', async () => {
      for (const expression of ESCAPES) {
        for (const [xml, element] of [[condition(expression), 'Escaped'], [inputParameter(expression), 'Call']] as const) {
          const res = await upload(xml, 'escape.bpmn');
          if (res.status === 400) {
            assert.match(wording(problem(res, 400)), new RegExp(`<${element}>`), expression);
            continue;
          }
          // accepted by a stricter evaluator: running it must neither leak nor break anything
          assert.equal(res.status, 201, `${expression}: ${res.text}`);
          const started = await t.as(DEMO).post('/api/processes/escape/instances').send({ variables: { amount: 5 } });
          assert.ok(started.status === 201 || started.status === 400, `${expression}: ${started.status} ${started.text}`);
          const text = JSON.stringify(started.body);
          assert.ok(!/PATH|HOME|uid=/.test(text), `${expression} leaked: ${text.slice(0, 300)}`);
          if (element === 'Call' && started.status === 201) {
            const locked = await t.as(WORKER).post('/api/external-tasks/fetch-and-lock')
              .send({ workerId: 'escape', maxTasks: 10, topics: [{ topicName: 'escape', lockDuration: 1000 }] }).expect(200);
            for (const task of locked.body) assert.ok(!/PATH|HOME|uid=/.test(JSON.stringify(task.input ?? null)), `${expression} leaked into the input`);
          }
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
      await t.as(DEMO).get('/api/processes').expect(200);
    });
  });
});

Feature('Request bodies of the wrong type, size or shape are refused, and nothing is written', () => {
  let t: TestBaton;
  let taskId: string;
  let instanceId: string;
  const APPROVAL = bpmn(
    'approval',
    `<bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Approve" />
    <bpmn:userTask id="Approve" camunda:candidateGroups="managers" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="End" />
    <bpmn:endEvent id="End" />`,
  );
  before(async () => {
    t = await startBaton({ env: { BATON_BODY_LIMIT_BYTES: String(LIMIT) } });
    await deploy(t.as(DEMO), APPROVAL, 'approval.bpmn');
    instanceId = (await t.as(DEMO).post('/api/processes/approval/instances').send({}).expect(201)).body.id;
    taskId = (await t.as(MARY).get('/api/tasks').expect(200)).body.items[0].id;
  });
  after(() => t.close());

  /** the state a refused request must leave as it was */
  const snapshot = async () => ({
    instances: (await t.as(DEMO).get('/api/instances').expect(200)).body.total,
    history: (await t.as(DEMO).get(`/api/instances/${instanceId}/history`).expect(200)).body.length,
    task: (await t.as(MARY).get(`/api/tasks/${taskId}`).expect(200)).body.assignee,
  });

  Scenario('bodies that are not JSON where JSON is expected', () => {
    Then('text, XML and form bodies are 415 naming the media type, on every JSON endpoint', async () => {
      const before = await snapshot();
      const calls: [typeof MARY, string][] = [
        [DEMO, '/api/processes/approval/instances'],
        [MARY, `/api/tasks/${taskId}/complete`],
        [DEMO, '/api/messages'],
        [WORKER, '/api/external-tasks/fetch-and-lock'],
        [DEMO, '/engine-rest/process-definition/key/approval/start'],
      ];
      for (const [who, url] of calls) {
        for (const [type, body] of [['text/plain', 'variables'], ['application/xml', '<variables/>'], ['application/x-www-form-urlencoded', 'a=1']]) {
          const res = await t.as(who).post(url).set('content-type', type as string).send(body);
          assert.equal(res.status, 415, `${url} with ${type}: ${res.status} ${res.text}`);
          assert.match(url.startsWith('/engine-rest') ? res.body.message : problem(res, 415).detail, /must be JSON/);
        }
      }
      assert.deepEqual(await snapshot(), before);
    });
    Then('malformed JSON is 400 and a body over the limit 413', async () => {
      const before = await snapshot();
      assert.match(problem(await t.as(DEMO).post('/api/processes/approval/instances').type('json').send('{"variables": {'), 400).detail, /malformed body/);
      const huge = { variables: { note: 'x'.repeat(LIMIT) } };
      assert.match(problem(await t.as(DEMO).post('/api/processes/approval/instances').send(huge), 413).detail, /exceeds/);
      assert.deepEqual(await snapshot(), before);
    });
  });

  Scenario('variables with bad names or shapes', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = { inner: deep };
    Then('bad names, reserved names and values nested too deep are 400 naming each', async () => {
      const before = await snapshot();
      const res = await t.as(DEMO)
        .post('/api/processes/approval/instances')
        .type('json')
        .send(JSON.stringify({ variables: { 'a.b': 1, '1st': 2, constructor: 3, prototype: 4, ['x'.repeat(65)]: 5, deep, fine: 6 } }));
      const body = problem(res, 400);
      const byPath = Object.fromEntries((body.problems ?? []).map((p) => [p.path, p.message]));
      assert.deepEqual(byPath, {
        'a.b': 'is not a valid variable name',
        '1st': 'is not a valid variable name',
        constructor: 'is a reserved name',
        prototype: 'is a reserved name',
        ['x'.repeat(65)]: 'is not a valid variable name',
        deep: 'nests deeper than 32 levels',
      });
      const proto = await t.as(DEMO).post('/api/processes/approval/instances').type('json').send('{"variables": {"__proto__": {"polluted": 1}}}');
      problem(proto, 400);
      assert.deepEqual(await snapshot(), before);
    });
    Then('completing the task with them is refused and leaves it open', async () => {
      const before = await snapshot();
      const res = await t.as(MARY).post(`/api/tasks/${taskId}/complete`).send({ variables: { deep, 'bad name': 1 } });
      assert.deepEqual((problem(res, 400).problems ?? []).map((p) => p.path).sort(), ['bad name', 'deep']);
      const camunda = await t.as(MARY).post(`/engine-rest/task/${taskId}/complete`).send({ variables: { deep: { value: deep, type: 'Json' } } });
      assert.equal(camunda.status, 400, camunda.text);
      assert.deepEqual(await snapshot(), before);
      assert.equal((await t.as(DEMO).get(`/api/instances/${instanceId}`).expect(200)).body.status, 'running');
    });
  });
});
