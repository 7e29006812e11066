import type { ModdleElement } from 'bpmn-moddle';
import { children } from '../../extensions.ts';
import { definitionsElement, itemOf, ref, sameItem, type Rule } from './model.ts';

/**
 * Rules about the data that service and send tasks, call activities and callable elements
 * exchange: with the operation they call (BPMN 2.0, 10.3.3), with the element a call activity
 * calls (10.3.6), and through the bindings of a callable element exposed as a service (10.2.5).
 */

const CALLABLE = ['bpmn:Process', 'bpmn:GlobalTask', 'bpmn:GlobalUserTask', 'bpmn:GlobalManualTask', 'bpmn:GlobalScriptTask', 'bpmn:GlobalBusinessRuleTask'];

const io = (element: ModdleElement, kind: string): ModdleElement[] => children(ref(element, 'ioSpecification'), kind);

/** A data input or output of a service task whose item is not the item of the operation's message, as a violation. */
function messageData(task: ModdleElement, kind: 'dataInputs' | 'dataOutputs'): string | null {
  const property = kind === 'dataInputs' ? 'inMessageRef' : 'outMessageRef';
  const message = ref(ref(task, 'operationRef'), property);
  const expected = ref(message, 'itemRef');
  if (!message || !expected) return null;
  const wrong = io(task, kind).find((data) => {
    const item = itemOf(data);
    return item && !sameItem(item, expected);
  });
  const what = kind === 'dataInputs' ? 'data input' : 'data output';
  return wrong
    ? `its ${what} <${String(wrong.id)}> holds a <${String(itemOf(wrong)?.id)}>, but the ${property === 'inMessageRef' ? 'input' : 'output'} message <${String(message.id)}> of its operation carries a <${String(expected.id)}>`
    : null;
}

/** The first difference between the data a call activity declares and the data of the element it calls. */
function callData(call: ModdleElement): string | null {
  const calledId = typeof call.calledElement === 'string' ? call.calledElement.trim() : '';
  const called = children(definitionsElement(call), 'rootElements').find((root) => root.id === calledId && CALLABLE.includes(root.$type));
  if (!called || (!call.ioSpecification && !called.ioSpecification)) return null;
  const kinds = [
    ['dataInputs', 'data input'],
    ['dataOutputs', 'data output'],
    ['inputSets', 'input set'],
    ['outputSets', 'output set'],
  ] as const;
  for (const [kind, what] of kinds) {
    const mine = io(call, kind);
    const theirs = io(called, kind);
    if (mine.length !== theirs.length) {
      return `it declares ${mine.length} ${what}(s) where the ${called.$type.slice(5)} <${String(called.id)}> it calls declares ${theirs.length}; a call activity passes exactly the data of the element it calls`;
    }
    for (const [index, data] of mine.entries()) {
      const [item, expected] = [itemOf(data), itemOf(theirs[index])];
      if (item && expected && !sameItem(item, expected)) {
        return `its ${what} <${String(data.id)}> holds a <${String(item.id)}> where <${String(theirs[index]?.id)}> of the ${called.$type.slice(5)} <${String(called.id)}> holds a <${String(expected.id)}>`;
      }
    }
  }
  return null;
}

export const SERVICE_RULES: Rule[] = [
  [
    'EXT.042',
    ['bpmn:ServiceTask'],
    (e) => {
      const sets = io(e, 'inputSets').length;
      return e.operationRef && sets !== 1 ? `a service task that calls an operation has exactly one input set (it has ${sets})` : null;
    },
  ],
  ['EXT.043', ['bpmn:ServiceTask'], (e) => (e.operationRef && io(e, 'outputSets').length > 1 ? 'a service task that calls an operation has at most one output set' : null)],
  ['EXT.044', ['bpmn:ServiceTask'], (e) => messageData(e, 'dataInputs')],
  ['EXT.045', ['bpmn:ServiceTask'], (e) => messageData(e, 'dataOutputs')],
  ['EXT.046', ['bpmn:SendTask'], (e) => (e.messageRef && io(e, 'inputSets').length > 1 ? 'a send task that sends a message has at most one input set' : null)],
  ['EXT.063', ['bpmn:CallActivity'], callData],
  [
    'EXT.064',
    CALLABLE,
    (e) => {
      const offered = children(e, 'supportedInterfaceRef')[0];
      return offered && !children(e, 'ioBinding').length ? `it offers the interface <${String(offered.id)}> (supportedInterfaceRef) but binds no operation to its data (ioBinding)` : null;
    },
  ],
  [
    'EXT.065',
    ['bpmn:InputOutputBinding'],
    (e) => {
      const operation = ref(e, 'operationRef');
      for (const [property, message, what] of [['inputDataRef', 'inMessageRef', 'input'], ['outputDataRef', 'outMessageRef', 'output']] as const) {
        const data = ref(e, property);
        const [item, expected] = [itemOf(data), ref(ref(operation, message), 'itemRef')];
        if (data && item && expected && !sameItem(item, expected)) {
          return `it binds <${String(data.id)}>, a <${String(item.id)}>, to the ${what} message of the operation <${String(operation?.id)}>, which carries a <${String(expected.id)}>`;
        }
      }
      return null;
    },
  ],
];
