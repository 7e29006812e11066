import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import { ISOInterval, getDate } from '@0dep/piso';
import type { Problem } from '../errors.ts';
import type { FormField, Json } from '../store/types.ts';
import { checkExpression, isExpression } from './expressions.ts';

/**
 * What Baton knows about one process of a BPMN file beyond what bpmn-engine executes: its
 * elements for display, its forms, the topics of its external tasks and the messages it waits for.
 */
export interface ProcessModel {
  key: string;
  name: string;
  executable: boolean;
  elements: Map<string, { id: string; name: string; type: string }>;
  startForm: FormField[];
  userTasks: Map<string, { assignee: string | null; candidateUsers: string[]; candidateGroups: string[]; form: FormField[] }>;
  topics: Map<string, string>;
  /** message id → message name */
  messages: Map<string, string>;
}

const list = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter(Boolean) : [];

const children = (element: ModdleElement | undefined, property: string): ModdleElement[] =>
  element && Array.isArray(element[property]) ? (element[property] as ModdleElement[]) : [];

const FIELD_TYPES = new Set(['string', 'long', 'boolean', 'date', 'enum']);

function readForm(element: ModdleElement, problems: Problem[]): FormField[] {
  const extension = children(element.extensionElements as ModdleElement, 'values').find(
    (value) => value.$type === 'camunda:FormData',
  );
  if (!extension) return [];
  return children(extension, 'fields').map((field) => {
    const type = String(field.type ?? 'string');
    if (!FIELD_TYPES.has(type)) {
      problems.push({ path: element.id, message: `form field "${String(field.id)}" has unsupported type "${type}"` });
    }
    const constraints: Record<string, string | number | true> = {};
    let required = false;
    for (const constraint of children(field.validation as ModdleElement, 'constraints')) {
      const name = String(constraint.name);
      if (name === 'required') required = true;
      else if (name === 'readonly') constraints.readonly = true;
      else if (['min', 'max', 'minlength', 'maxlength'].includes(name)) {
        const config = Number(constraint.config);
        if (!Number.isFinite(config)) {
          problems.push({ path: element.id, message: `constraint ${name} of form field "${String(field.id)}" needs a number` });
        } else constraints[name] = config;
      } else {
        problems.push({ path: element.id, message: `constraint "${name}" of form field "${String(field.id)}" is not supported` });
      }
    }
    const result: FormField = {
      id: String(field.id),
      label: String(field.label ?? field.id),
      type: type as FormField['type'],
      required,
    };
    if (field.defaultValue !== undefined) result.defaultValue = field.defaultValue as Json;
    if (type === 'enum') {
      result.values = children(field, 'values').map((value) => ({ id: String(value.id), name: String(value.name ?? value.id) }));
    }
    if (Object.keys(constraints).length) result.constraints = constraints;
    return result;
  });
}

function checkTimer(element: ModdleElement, definition: ModdleElement, problems: Problem[]): void {
  for (const kind of ['timeDuration', 'timeDate', 'timeCycle']) {
    const body = (definition[kind] as ModdleElement | undefined)?.body;
    if (typeof body !== 'string') continue;
    const text = body.trim();
    try {
      if (isExpression(text)) checkExpression(text);
      else if (kind === 'timeDate') {
        if (Number.isNaN(getDate(text).getTime())) throw new Error('not a date');
      } else new ISOInterval(text).parse();
    } catch (err) {
      problems.push({ path: element.id, message: `${kind} "${text}" is not a valid ISO 8601 value: ${(err as Error).message}` });
    }
  }
}

const EXTERNAL_TYPES = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask']);
const UNSUPPORTED = new Map([
  ['bpmn:ComplexGateway', 'complex gateways are not supported'],
  ['bpmn:ScriptTask', 'script tasks are refused: uploaded files may not run scripts'],
  ['bpmn:CallActivity', 'call activities are not supported yet'],
]);

function visitFlowElements(container: ModdleElement, model: ProcessModel, problems: Problem[]): void {
  for (const element of children(container, 'flowElements')) {
    const id = String(element.id);
    const type = element.$type;
    if (type !== 'bpmn:SequenceFlow') model.elements.set(id, { id, name: String(element.name ?? id), type });
    const unsupported = UNSUPPORTED.get(type);
    if (unsupported) problems.push({ path: id, message: `${type.slice(5)} <${id}>: ${unsupported}` });
    if (EXTERNAL_TYPES.has(type)) {
      if (element.class || element.expression || element.delegateExpression) {
        problems.push({ path: id, message: `<${id}>: Java delegates and expressions cannot run in Baton; use camunda:type="external" with a camunda:topic` });
      } else if (typeof element.topic !== 'string' || !element.topic.trim()) {
        problems.push({ path: id, message: `<${id}>: a ${type.slice(5)} needs camunda:type="external" and a camunda:topic` });
      } else model.topics.set(id, element.topic.trim());
    }
    if (type === 'bpmn:UserTask') {
      const assignee = typeof element.assignee === 'string' && element.assignee.trim() ? element.assignee.trim() : null;
      for (const text of [assignee, element.candidateUsers, element.candidateGroups]) {
        if (typeof text === 'string' && isExpression(text)) tryCheck(id, text, problems);
      }
      model.userTasks.set(id, {
        assignee,
        candidateUsers: list(element.candidateUsers),
        candidateGroups: list(element.candidateGroups),
        form: readForm(element, problems),
      });
    }
    if (type === 'bpmn:StartEvent' && container.$type === 'bpmn:Process') {
      const form = readForm(element, problems);
      if (form.length) model.startForm = form;
    }
    if (type === 'bpmn:SequenceFlow' && element.conditionExpression) {
      const condition = element.conditionExpression as ModdleElement;
      if (condition.language) {
        problems.push({ path: id, message: `<${id}>: script conditions (${String(condition.language)}) are refused; use \${...}` });
      } else tryCheck(id, String(condition.body ?? ''), problems);
    }
    for (const definition of children(element, 'eventDefinitions')) {
      if (definition.$type === 'bpmn:TimerEventDefinition') checkTimer(element, definition, problems);
      if (definition.$type === 'bpmn:MessageEventDefinition') {
        const message = definition.messageRef as ModdleElement | undefined;
        if (message?.id) model.messages.set(message.id, String(message.name ?? message.id));
      }
    }
    if (type === 'bpmn:ReceiveTask') {
      const message = element.messageRef as ModdleElement | undefined;
      if (message?.id) model.messages.set(message.id, String(message.name ?? message.id));
    }
    if (children(element, 'flowElements').length) visitFlowElements(element, model, problems);
  }
}

function tryCheck(id: string, text: string, problems: Problem[]): void {
  try {
    checkExpression(text);
  } catch (err) {
    problems.push({ path: id, message: `<${id}>: ${(err as Error).message}` });
  }
}

/** Reads every process of a parsed BPMN file and collects what Baton cannot run. */
export function readProcesses(context: ModdleContext): { processes: ProcessModel[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const processes: ProcessModel[] = [];
  const definitions = context.rootElement;
  for (const root of children(definitions, 'rootElements')) {
    if (root.$type !== 'bpmn:Process') continue;
    const model: ProcessModel = {
      key: String(root.id),
      name: String(root.name ?? root.id),
      executable: root.isExecutable === true,
      elements: new Map(),
      startForm: [],
      userTasks: new Map(),
      topics: new Map(),
      messages: new Map(),
    };
    const processProblems: Problem[] = [];
    visitFlowElements(root, model, processProblems);
    if (model.executable) problems.push(...processProblems);
    processes.push(model);
  }
  if (!processes.length) problems.push({ message: 'the file holds no process' });
  else if (!processes.some((process) => process.executable)) {
    problems.push({ message: 'no process is executable: set isExecutable="true" on the process to run' });
  }
  return { processes, problems };
}
