/**
 * Fuzzing a Baton server process: mutated BPMN files (from processes/, test/fixtures/ and
 * test/corpora/) deployed and started, and random JSON bodies sent to every endpoint as random
 * users. The server must never crash, never answer 5xx, and its memory must stay bounded.
 * Seeded, so a failure replays. Used by test/reliability/fuzz.test.ts and `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBaton } from '../helpers/baton.ts';
import { endpoints } from '../helpers/endpoints.ts';
import { fuzzExpressions } from './fuzz-expressions.ts';
import { fuzzVariables } from './fuzz-variables.ts';
import { prng } from '../helpers/prng.ts';
import { DEMO, MARY, WORKER, makeDataDir, removeDataDir, spawnServer, type Credentials, type ServerProcess } from '../helpers/server-process.ts';

export interface FuzzOptions {
  bpmnFiles: number;
  jsonBodies: number;
  seed: number;
  say?: (line: string) => void;
  /** random FEEL and JUEL expressions deployed and started (fuzz-expressions.ts); default 0 */
  expressions?: number;
  /** random variable payloads around the bounds (fuzz-variables.ts); default 0 */
  variables?: number;
}

export interface FuzzFigures {
  seed: number;
  corpus: number;
  bpmnFiles: number;
  deployed: number;
  started: number;
  jsonBodies: number;
  /** answers by status */
  statuses: Record<string, number>;
  rssBeforeMB: number;
  rssAfterMB: number;
  durationSeconds: number;
}

const ROOT = path.join(import.meta.dirname, '../..');
const REQUEST_TIMEOUT_MS = 15_000;
/** the server's heap limit while fuzzed */
export const HEAP_MB = 768;
const LONG_POLL = /fetch-and-lock|fetchAndLock|\/events(\?|$)/;

/** The BPMN files to mutate. */
export function corpus(): { name: string; xml: string }[] {
  const found: { name: string; xml: string }[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(bpmn|bpmn20\.xml)$/.test(entry.name) && fs.statSync(full).size < 2_000_000) found.push({ name: path.relative(ROOT, full), xml: fs.readFileSync(full, 'utf8') });
    }
  };
  for (const dir of ['processes', 'test/fixtures', 'test/corpora']) walk(path.join(ROOT, dir));
  return found;
}

const SNIPPETS = [
  '<!DOCTYPE x [<!ENTITY a "b">]>',
  '&a;',
  '${constructor}',
  '${a.b.c}',
  '${x > }',
  '<bpmn:scriptTask id="Script"><bpmn:script>while(true){}</bpmn:script></bpmn:scriptTask>',
  '<bpmn:subProcess id="Open">',
  '</bpmn:process>',
  '<![CDATA[',
  '<!--',
  '\u0000',
  'id=""',
  'xmlns:bpmn="urn:other"',
  'camunda:type="external"',
  'camunda:topic=""',
  '<bpmn:sequenceFlow id="Dangling" sourceRef="Nowhere" targetRef="Nowhere" />',
  '<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT0S</bpmn:timeCycle></bpmn:timerEventDefinition>',
  '<bpmn:timerEventDefinition><bpmn:timeDuration>P99999Y</bpmn:timeDuration></bpmn:timerEventDefinition>',
  '<camunda:inputOutput><camunda:inputParameter name="x">${__proto__}</camunda:inputParameter></camunda:inputOutput>',
  '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${list}" />',
  '<bpmn:standardLoopCharacteristics />',
  '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${true}</bpmn:conditionExpression>',
  '<bpmn:errorEventDefinition errorRef="Missing" />',
  '"'.repeat(3),
  '\uFFFF\uD800',
  '9'.repeat(40),
];
const TAGS = ['startEvent', 'endEvent', 'userTask', 'serviceTask', 'scriptTask', 'exclusiveGateway', 'parallelGateway', 'inclusiveGateway', 'subProcess', 'boundaryEvent', 'intermediateCatchEvent', 'receiveTask', 'callActivity', 'sequenceFlow', 'process', 'definitions', 'task'];

/** One to three random mutations of an XML text. */
export function mutate(xml: string, random: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const at = (): number => Math.floor(random() * (xml.length + 1));
  const rounds = 1 + Math.floor(random() * 3);
  for (let round = 0; round < rounds; round++) {
    const a = at();
    const b = Math.min(xml.length, a + Math.floor(random() * 200));
    switch (Math.floor(random() * 7)) {
      case 0:
        xml = xml.slice(0, a) + pick('<>&"\'/=!?[]{}$#%\n'.split('')) + xml.slice(a + 1);
        break;
      case 1:
        xml = xml.slice(0, a) + xml.slice(b);
        break;
      case 2:
        xml = xml.slice(0, at()) + xml.slice(a, b) + xml.slice(at());
        break;
      case 3: {
        const where = at();
        xml = xml.slice(0, where) + pick(SNIPPETS) + xml.slice(where);
        break;
      }
      case 4:
        xml = xml.slice(0, a);
        break;
      case 5:
        xml = xml.replace(new RegExp(`bpmn:${pick(TAGS)}\\b`, 'g'), `bpmn:${pick(TAGS)}`);
        break;
      default: {
        const values = [...xml.matchAll(/"([^"]{1,60})"/g)].map((m) => m[1] as string);
        if (values.length) xml = xml.replace(`"${pick(values)}"`, `"${pick(values)}"`);
      }
    }
  }
  return xml;
}

const KEYS = [
  'variables', 'workerId', 'topics', 'topicName', 'lockDuration', 'maxTasks', 'asyncResponseTimeout', 'name', 'businessKey', 'correlationKey',
  'instanceId', 'errorCode', 'errorMessage', 'retries', 'retryTimeout', 'newDuration', 'messageName', 'processInstanceId', 'userId',
  'withVariablesInReturn', 'value', 'type', 'valueInfo', 'approved', 'comment', 'employeeId', 'all', 'localVariables', '__proto__', 'constructor',
];
const STRINGS = ['', 'x', '${constructor}', '<script>alert(1)</script>', '../../etc/passwd', '\u0000', '🙂'.repeat(50), 'a'.repeat(5000), 'Long', 'Json', 'Bytes', 'true', '-1', '1e999', 'salary', 'notify.sms'];

/** A random JSON value, at most `depth` levels deep, with keys Baton knows and some it does not. */
export function randomJson(random: () => number, depth = 4): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const kind = Math.floor(random() * (depth > 0 ? 8 : 5));
  switch (kind) {
    case 0:
      return pick([0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 60), 1.5, 1e308, 300_001]);
    case 1:
      return pick(STRINGS);
    case 2:
      return random() < 0.5;
    case 3:
      return null;
    case 4:
      return Math.floor(random() * 100);
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth - 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) object[random() < 0.85 ? pick(KEYS) : `k${Math.floor(random() * 1e6)}`] = randomJson(random, depth - 1);
      return object;
    }
  }
}

/** The resident memory of a process, in MB (Linux). */
function rssMB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzFigures> {
  const say = options.say ?? (() => undefined);
  const random = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const files = corpus();
  assert.ok(files.length >= 3, `a corpus of BPMN files (found ${files.length})`);
  // the endpoints, as the routers of an in-process Baton list them
  const probe = await startBaton();
  const routes = endpoints(probe.baton.app);
  await probe.close();

  const dataDir = makeDataDir();
  // a capped heap: memory that is only garbage is collected in time; memory that leaks ends the server, and the run
  const server: ServerProcess = await spawnServer({
    dataDir,
    demo: 'users',
    env: { BATON_CONNECTORS: 'none', BATON_SCRIPT_FORMATS: 'feel,juel', BATON_LOG_LEVEL: 'fatal', BATON_BODY_LIMIT_BYTES: '2000000', NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` },
  });
  const figures: FuzzFigures = {
    seed: options.seed, corpus: files.length, bpmnFiles: 0, deployed: 0, started: 0, jsonBodies: 0, statuses: {}, rssBeforeMB: 0, rssAfterMB: 0, durationSeconds: 0,
  };
  const started = Date.now();
  const basic = ({ user, password }: Credentials): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  /** sends one request; 5xx, a dead server or no answer (except a long poll) fail the run, naming what was sent */
  const send = async (method: string, url: string, who: Credentials, body: BodyInit | undefined, type: string | undefined, what: string): Promise<number> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), LONG_POLL.test(url) ? 3_000 : REQUEST_TIMEOUT_MS);
    let status: number;
    let text = '';
    try {
      const res = await fetch(`${server.url}${url}`, {
        method,
        headers: { authorization: basic(who), ...(type ? { 'content-type': type } : {}) },
        ...(body === undefined ? {} : { body }),
        signal: abort.signal,
      });
      text = await res.text();
      status = res.status;
    } catch (err) {
      await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      assert.ok(server.running(), `the server died after ${what} (seed ${options.seed}): ${server.stderr.slice(-5).join(' | ')}`);
      if (abort.signal.aborted && LONG_POLL.test(url)) return 0;
      throw new Error(`no answer to ${what} within ${REQUEST_TIMEOUT_MS} ms (seed ${options.seed}): ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
    // Camunda answers some client mistakes with 500 and a named exception (README, "Coming from
    // Camunda"); only its unnamed 500 is a server error there
    const camundaByDesign = url.startsWith('/engine-rest') && status === 500 && !/an unexpected error occurred/.test(text) && /"type":"\w+Exception"/.test(text);
    assert.ok(status < 500 || camundaByDesign, `${status} for ${what} (seed ${options.seed}): ${text.slice(0, 300)}`);
    return status;
  };

  try {
    // warm up with the real corpus, so the memory measured next is the steady state
    for (const file of files) {
      const form = new FormData();
      form.append('file', new Blob([file.xml]), path.basename(file.name));
      await send('POST', '/api/deployments', DEMO, form, undefined, `the corpus file ${file.name}`);
    }
    figures.rssBeforeMB = rssMB(server.pid);

    const keys: string[] = [];
    for (let i = 0; i < options.bpmnFiles; i++) {
      const source = pick(files);
      const xml = mutate(source.xml, random);
      const form = new FormData();
      form.append('file', new Blob([xml]), 'fuzz.bpmn');
      figures.bpmnFiles++;
      const what = `mutation ${i} of ${source.name}`;
      const status = await send('POST', '/api/deployments', DEMO, form, undefined, what);
      if (status === 201) {
        figures.deployed++;
        const processKeys = [...xml.matchAll(/<(?:bpmn2?:)?process\b[^>]*\bid="([^"]+)"/g)].map((m) => m[1] as string);
        for (const key of processKeys.slice(0, 2)) {
          const run = await send('POST', `/api/processes/${encodeURIComponent(key)}/instances`, DEMO, JSON.stringify({ variables: {} }), 'application/json', `starting ${key} of ${what}`);
          if (run === 201) {
            figures.started++;
            keys.push(key);
          }
        }
      }
      if (i % 500 === 499) say(`${i + 1} mutated BPMN files, ${figures.deployed} deployed, RSS ${rssMB(server.pid)} MB`);
    }

    // ids that exist, so random bodies also reach the code behind the lookups
    const instances = JSON.parse(await (await fetch(`${server.url}/api/instances?limit=50`, { headers: { authorization: basic(DEMO) } })).text()) as { items: { id: string; tasks: { id: string }[]; externalTasks: { id: string }[] }[] };
    const ids = [
      ...instances.items.flatMap((i) => [i.id, ...i.tasks.map((x) => x.id), ...i.externalTasks.map((x) => x.id)]),
      'no-such-id', '..%2F..%2Fetc', 'a'.repeat(300), '%00', '${x}', 'salary', 'salary:1:x', ...keys.slice(0, 5),
    ];
    const who = [DEMO, MARY, WORKER];
    for (let i = 0; i < options.jsonBodies; i++) {
      const route = pick(routes);
      const [method, pattern] = route.split(' ') as [string, string];
      const url = pattern.replace(/:[a-zA-Z]+/g, () => encodeURIComponent(pick(ids)).replace(/%25/g, '%'));
      const query = random() < 0.3 ? `?${pick(['firstResult', 'maxResults', 'offset', 'limit', 'status', 'version', 'processInstanceId', 'assignee', 'sortBy'])}=${encodeURIComponent(String(randomJson(random, 0)))}` : '';
      const body = method === 'GET' ? undefined : random() < 0.9 ? JSON.stringify(randomJson(random)) : pick(['{', '[1,', '"x"', '{"a":1}'.repeat(2), 'null']);
      figures.jsonBodies++;
      await send(method, url + query, pick(who), body, body === undefined ? undefined : 'application/json', `${method} ${url}${query} with ${String(body).slice(0, 200)}`);
      if (i % 1000 === 999) say(`${i + 1} random bodies, RSS ${rssMB(server.pid)} MB`);
    }
    const expressions = options.expressions ?? 0;
    const deployedExpressions = await fuzzExpressions((method, url, body, type, what) => send(method, url, DEMO, body, type, what), random, expressions);
    if (expressions) say(`${expressions} random expressions, ${deployedExpressions} deployed, RSS ${rssMB(server.pid)} MB`);
    const payloads = options.variables ?? 0;
    const taken = await fuzzVariables((method, url, body, type, what) => send(method, url, DEMO, body, type, what), random, payloads);
    if (payloads) say(`${payloads} random variable payloads, ${taken} taken, RSS ${rssMB(server.pid)} MB`);
    figures.rssAfterMB = rssMB(server.pid);
    figures.durationSeconds = Math.round((Date.now() - started) / 100) / 10;
    assert.ok(server.running(), 'the server is still running');
    return figures;
  } finally {
    await server.stop();
    removeDataDir(dataDir);
  }
}
