/**
 * Expression fuzzing for fuzz-run.ts: random FEEL and JUEL expressions — built from fragments that
 * iterate, nest, build long texts, backtrack in regular expressions or are plain nonsense — put
 * into a gateway condition, an input parameter and a script task, deployed and started with
 * random variables. Each must be refused with a 4xx at deployment or run to an answer (an instance,
 * perhaps with an incident) within the bounds; the caller's `send` fails the run on a 5xx, a
 * dead server or no answer.
 */

/** Sends one request to the fuzzed server and returns the status (fuzz-run.ts's `send`). */
export type Send = (method: string, url: string, body: BodyInit | undefined, type: string | undefined, what: string) => Promise<number>;

const FEEL_LEAVES = ['n', 'x', 's', 'list', '1', '0', '-1', '1e9', '"a"', '""', 'null', 'true', 'date("2020-01-01")', 'duration("P1D")', '[1, 2, 3]', '{a: 1}'];
const FEEL_SHAPES: ((a: string, b: string) => string)[] = [
  (a, b) => `${a} + ${b}`,
  (a, b) => `${a} * ${b}`,
  (a, b) => `${a} > ${b}`,
  (a, b) => `if ${a} then ${b} else ${a}`,
  (a, b) => `for i in 1..${a} return ${b}`,
  (a, b) => `for i in 1..${a}, j in 1..${b} return i * j`,
  (a, b) => `some x in 1..${a} satisfies x < ${b}`,
  (a, b) => `every x in ${a}..${b} satisfies x > 0`,
  (a) => `count(${a})`,
  (a, b) => `sum(for i in 1..${a} return ${b})`,
  (a, b) => `string join(for i in 1..${a} return string(${b}))`,
  (a, b) => `concatenate(${a}, ${b})`,
  (a, b) => `sublist(${a}, 1, ${b})`,
  (a) => `string length(${a})`,
  (a) => `matches(${a}, "(a+)+$")`,
  (a, b) => `replace(${a}, "(x*)*y", ${b})`,
  (a, b) => `substring(${a}, ${b})`,
  (a, b) => `${a}[${b}]`,
  (a) => `${a}.a`,
  (a) => `(${a})`,
  (a) => `not(${a})`,
  (a, b) => `{f: function(k) if k > 0 then f(k - 1) + ${b} else ${a}}.f(${a})`,
  (a, b) => `${a} ${b}`,
  (a) => `${a}..`,
];

const JUEL_LEAVES = ['n', 'x', 's', 'list', 'map', '1', '0', '1e308', '"a"', "'b'", 'null', 'true', 'empty s'];
const JUEL_SHAPES: ((a: string, b: string) => string)[] = [
  (a, b) => `${a} + ${b}`,
  (a, b) => `${a} * ${b}`,
  (a, b) => `${a} == ${b}`,
  (a, b) => `${a} && ${b}`,
  (a, b) => `${a} ? ${b} : ${a}`,
  (a, b) => `${a}.concat(${b})`,
  (a, b) => `${a}.contains(${b})`,
  (a, b) => `${a}.substring(${b})`,
  (a) => `${a}.toUpperCase()`,
  (a) => `${a}.size()`,
  (a) => `!${a}`,
  (a) => `(${a})`,
  (a, b) => `${a}[${b}]`,
  (a) => `${a}.constructor`,
  (a, b) => `${a} ${b}`,
];

function grow(random: () => number, leaves: string[], shapes: ((a: string, b: string) => string)[], depth: number): string {
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
  if (depth <= 0 || random() < 0.25) return pick(leaves);
  return pick(shapes)(grow(random, leaves, shapes, depth - 1), grow(random, leaves, shapes, depth - 1));
}

/** One random expression, FEEL (`=...`) or JUEL (`${...}`), up to five levels deep. */
export function randomExpression(random: () => number): string {
  return random() < 0.6 ? `=${grow(random, FEEL_LEAVES, FEEL_SHAPES, 5)}` : `\${${grow(random, JUEL_LEAVES, JUEL_SHAPES, 5)}}`;
}

/** Random variables for a start: small and huge numbers, long texts, lists. */
export function randomVariables(random: () => number): Record<string, unknown> {
  const numbers = [0, 1, 3, -1, 1e9, 1e15, 2 ** 31];
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
  return { n: pick(numbers), x: pick(numbers), s: 'a'.repeat(pick([0, 1, 50, 100_000])) + '!', list: Array.from({ length: pick([0, 3, 1000]) }, (_, i) => i), map: { a: 1 } };
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** A process holding the expression as a gateway condition, an input parameter and a script (of its language). */
function processOf(key: string, expression: string): string {
  const format = expression.startsWith('=') ? 'feel' : 'juel';
  const scriptText = format === 'feel' ? expression.slice(1) : expression;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_${key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${key}" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Script" />
    <bpmn:scriptTask id="Script" scriptFormat="${format}" camunda:resultVariable="result"><bpmn:script>${escape(scriptText)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Script" targetRef="Gate" />
    <bpmn:exclusiveGateway id="Gate" default="Normal" />
    <bpmn:sequenceFlow id="Hit" sourceRef="Gate" targetRef="Call">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${escape(expression)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Normal" sourceRef="Gate" targetRef="Call" />
    <bpmn:serviceTask id="Call" camunda:type="external" camunda:topic="fuzz">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="value">${escape(expression)}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Call" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
</bpmn:definitions>`;
}

/**
 * Deploys and starts `count` processes with random expressions (the server needs script formats
 * feel and juel enabled for the script tasks to deploy). Returns how many deployed.
 */
export async function fuzzExpressions(send: Send, random: () => number, count: number): Promise<number> {
  let deployed = 0;
  for (let i = 0; i < count; i++) {
    const expression = randomExpression(random);
    const key = `expr${i}`;
    const form = new FormData();
    form.append('file', new Blob([processOf(key, expression)]), `${key}.bpmn`);
    const what = `the expression ${expression.slice(0, 200)}`;
    if ((await send('POST', '/api/deployments', form, undefined, `deploying ${what}`)) !== 201) continue;
    deployed++;
    await send('POST', `/api/processes/${key}/instances`, JSON.stringify({ variables: randomVariables(random) }), 'application/json', `starting ${what}`);
  }
  return deployed;
}
