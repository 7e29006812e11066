/**
 * Variable-payload fuzzing for fuzz-run.ts: random variables around the bounds (README, limits:
 * 256 KiB a variable, 1,000 and 4 MiB an instance, 32 levels of nesting, 4,000 characters a text
 * field) — many or few, long texts in one- and four-byte characters, deep values, odd names,
 * Camunda's typed values — sent to a start form, a form-less start, the Camunda start, a message
 * and a task completion. A payload the generator knows breaks a bound must be refused with a 4xx;
 * the caller's `send` fails the run on a 5xx, a dead server or no answer.
 */
import assert from 'node:assert/strict';
import type { Send } from './fuzz-expressions.ts';

const KIB = 1024;
/** the server's defaults (config.ts) that a payload is generated around */
const BOUNDS = { maxBytes: 256 * KIB, maxCount: 1_000, maxTotalBytes: 4 * 1024 * KIB, maxDepth: 32, textMaxLength: 4_000 };

const PROCESS = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D_fuzzvars" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:message id="Poke" name="fuzz-poke" />
  <bpmn:process id="fuzzvars" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Wait" />
    <bpmn:intermediateCatchEvent id="Wait"><bpmn:messageEventDefinition messageRef="Poke" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Wait" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
  <bpmn:process id="fuzzform" isExecutable="true">
    <bpmn:startEvent id="FormStart"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="note" label="Note" type="string" />
    </camunda:formData></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:sequenceFlow id="g1" sourceRef="FormStart" targetRef="FormEnd" />
    <bpmn:endEvent id="FormEnd" />
  </bpmn:process>
</bpmn:definitions>`;

/** One generated payload, and whether it breaks a bound for sure. */
interface Payload {
  variables: Record<string, unknown>;
  breaks: string | null;
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** A text of about `chars` characters, in one-byte letters or four-byte emoji. */
const text = (random: () => number, chars: number): string => (random() < 0.7 ? 'x'.repeat(chars) : '🙂'.repeat(Math.ceil(chars / 2)));

/** A value nested `depth` levels deep, in arrays or objects. */
const nested = (random: () => number, depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = random() < 0.5 ? [value] : { k: value };
  return value;
};

/** A random payload near one of the bounds (a little under or a little over). */
function payload(random: () => number): Payload {
  const near = (bound: number): number => Math.max(1, Math.round(bound * (0.9 + random() * 0.2)));
  switch (Math.floor(random() * 5)) {
    case 0: {
      const count = near(BOUNDS.maxCount);
      const variables = Object.fromEntries(Array.from({ length: count }, (_, i) => [`v${i}`, i]));
      return { variables, breaks: count > BOUNDS.maxCount ? `${count} variables` : null };
    }
    case 1: {
      const value = text(random, near(BOUNDS.maxBytes));
      return { variables: { big: value }, breaks: jsonBytes(value) > BOUNDS.maxBytes ? 'a variable over 256 KiB' : null };
    }
    case 2: {
      const depth = Math.floor(BOUNDS.maxDepth - 3 + random() * 8);
      return { variables: { deep: nested(random, depth) }, breaks: depth > BOUNDS.maxDepth ? `${depth} levels` : null };
    }
    case 3: {
      // several large ones: under the body limit of the fuzzed server, sometimes over a variable's bound
      const parts = 1 + Math.floor(random() * 6);
      const variables = Object.fromEntries(Array.from({ length: parts }, (_, i) => [`part${i}`, text(random, near(BOUNDS.maxBytes / 2))]));
      return { variables, breaks: null };
    }
    default: {
      const names = ['__proto__', 'constructor', '1bad', 'a'.repeat(65), 'ok', 'spaces here', '$x', 'ü'];
      const name = names[Math.floor(random() * names.length)] as string;
      return { variables: JSON.parse(`{"${name}": ${JSON.stringify(text(random, 10))}}`) as Record<string, unknown>, breaks: null };
    }
  }
}

/** Camunda's typed form of plain variables: strings as String, the rest as Json. */
const typed = (variables: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? { value, type: 'String' } : { value: JSON.stringify(value), type: 'Json' }]));

/**
 * Deploys the fuzzed processes and sends `count` random payloads through five entry points.
 * Returns how many were taken (2xx).
 */
export async function fuzzVariables(send: Send, random: () => number, count: number): Promise<number> {
  if (!count) return 0;
  const form = new FormData();
  form.append('file', new Blob([PROCESS]), 'fuzzvars.bpmn');
  assert.equal(await send('POST', '/api/deployments', form, undefined, 'the variable-fuzzing processes'), 201);
  let taken = 0;
  for (let i = 0; i < count; i++) {
    const { variables, breaks } = payload(random);
    const entry = Math.floor(random() * 4);
    const json = (body: unknown): string => JSON.stringify(body);
    const what = `variable payload ${i} (${Object.keys(variables).length} variables, ${breaks ?? 'within the bounds'}) to entry ${entry}`;
    let status: number;
    if (entry === 0) status = await send('POST', '/api/processes/fuzzvars/instances', json({ variables }), 'application/json', what);
    else if (entry === 1) status = await send('POST', '/engine-rest/process-definition/key/fuzzvars/start', json({ variables: typed(variables) }), 'application/json', what);
    else if (entry === 2) status = await send('POST', '/api/messages', json({ name: 'fuzz-poke', variables }), 'application/json', what);
    else {
      // a text form field: anything but `note` is not a field, and a long note passes the default maximum length
      const note = Object.values(variables).find((value) => typeof value === 'string') as string | undefined;
      status = await send('POST', '/api/processes/fuzzform/instances', json({ variables: { note: note ?? 'n' } }), 'application/json', what);
      if (note && note.length > BOUNDS.textMaxLength) assert.ok(status >= 400 && status < 500, `${status} for a note of ${note.length} characters`);
    }
    if (breaks && entry < 3) assert.ok(status >= 400 && status < 500, `${status} for ${what}`);
    if (status < 300) taken++;
  }
  return taken;
}
