import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import { ISOInterval, getDate } from '@0dep/piso';
import type { Problem } from '../errors.ts';
import type { FormField, Json } from '../store/types.ts';
import { checkExpression, isExpression } from './expressions.ts';
import {
  CONNECTOR_TOPICS,
  children,
  extensions,
  readErrorCatcher,
  readIo,
  readProperties,
  readRetryCycle,
  type ErrorCatcher,
  type IoParameter,
} from './extensions.ts';
import type { RetryPolicy } from './retry.ts';
import { readZeebeAssignment, readZeebeTask } from './import/zeebe.ts';
import { checkScriptTask, NO_SCRIPTS, type ScriptLanguages } from './scripts.ts';
import { CALLABLE_GLOBAL_TASKS, checkGlobalTaskCall } from './global-tasks.ts';
import { multiInstanceProblem } from './multi-instance.ts';

/** Message templates for the administrator when a job of an element becomes an incident. */
export interface IncidentNotice {
  sms?: string;
  email?: string;
}

/**
 * What Baton knows about one process of a BPMN file beyond what bpmn-engine executes: its
 * elements for display, its forms, the topics of its external tasks and the messages it waits for.
 */
export interface ProcessModel {
  key: string;
  name: string;
  executable: boolean;
  /** why Baton will not start this process (empty when it will): it can still be viewed */
  notExecuted: Problem[];
  elements: Map<string, { id: string; name: string; type: string }>;
  startForm: FormField[];
  userTasks: Map<string, { assignee: string | null; candidateUsers: string[]; candidateGroups: string[]; form: FormField[] }>;
  topics: Map<string, string>;
  /** message id → message name */
  messages: Map<string, string>;
  /** camunda input parameters of external tasks, evaluated when their job is created */
  inputs: Map<string, IoParameter[]>;
  /** camunda output parameters of external tasks, evaluated when their job completes */
  outputs: Map<string, IoParameter[]>;
  /** camunda:failedJobRetryTimeCycle of external tasks */
  retryPolicies: Map<string, RetryPolicy>;
  /** element id → id of the sub-process (or process) it sits in */
  parents: Map<string, string>;
  /** error boundary events by the id of the element they are attached to */
  errorBoundaries: Map<string, ErrorCatcher[]>;
  /** error start events of event sub-processes, by the id of the scope they watch */
  errorStarts: Map<string, ErrorCatcher[]>;
  /** `baton.incident.sms` / `baton.incident.email` properties by element id or process key */
  incidentNotices: Map<string, IncidentNotice>;
  /** the processes of the same file its call activities run, directly or through one another */
  calledProcesses: string[];
}

const list = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter(Boolean) : [];

const FIELD_TYPES = new Set(['string', 'long', 'boolean', 'date', 'enum']);

function readForm(element: ModdleElement, problems: Problem[]): FormField[] {
  const extension = extensions(element, 'camunda:FormData')[0];
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

/** The definitions element a flow element belongs to. */
function definitionsOf(element: ModdleElement): ModdleElement | undefined {
  let at: ModdleElement | undefined = element;
  while (at && at.$type !== 'bpmn:Definitions') at = at.$parent as ModdleElement | undefined;
  return at;
}

/**
 * A call activity runs a process of the same file (BPMN 2.0, 10.3.6): its elements become part of
 * the caller's model, under the call activity, so that their tasks, jobs and messages are the
 * caller instance's and an error they throw reaches the call activity's boundary events. A call
 * of a global script task runs that task (global-tasks.ts); a call of anything else (another
 * global task, a process of another file, an expression) is not executed.
 */
function readCallActivity(element: ModdleElement, model: ProcessModel, problems: Problem[], scripts: ScriptLanguages): void {
  const id = String(element.id);
  const calledId = typeof element.calledElement === 'string' ? element.calledElement.trim() : '';
  const called = children(definitionsOf(element), 'rootElements').find((root) => root.id === calledId);
  if (called && CALLABLE_GLOBAL_TASKS.has(called.$type)) {
    problems.push(...checkGlobalTaskCall(id, called, scripts));
    return;
  }
  if (called?.$type !== 'bpmn:Process') {
    const what = called ? `the ${called.$type.slice(5)} <${calledId}>` : `<${calledId}>, which is not a process of this file`;
    model.notExecuted.push({ path: id, message: `callActivity <${id}>: calls ${what}; Baton runs call activities of processes and of global script tasks in the same file` });
    return;
  }
  for (let scope: string | undefined = id; scope; scope = model.parents.get(scope)) {
    if (scope !== calledId && calledId !== model.key) continue;
    model.notExecuted.push({ path: id, message: `callActivity <${id}>: calls <${calledId}>, which it is part of: a call that never ends` });
    return;
  }
  if (model.calledProcesses.includes(calledId)) return;
  model.calledProcesses.push(calledId);
  model.parents.set(calledId, id);
  visitFlowElements(called, model, problems, scripts);
}

/**
 * The topic of a service, send or business-rule task: camunda:type="external" with a topic,
 * camunda:type "sms", "email" or "http" for a built-in connector, or Camunda's http-connector.
 * Also reads its input/output parameters and retry cycle.
 */
function readExternalTask(id: string, type: string, element: ModdleElement, model: ProcessModel, problems: Problem[]): void {
  const connector = extensions(element, 'camunda:Connector')[0];
  const kind = typeof element.type === 'string' ? element.type.trim() : '';
  let topic: string | null = null;
  if (element.class || element.expression || element.delegateExpression) {
    model.notExecuted.push({ path: id, message: `<${id}>: Java delegates and expressions cannot run in Baton; use camunda:type="external" with a camunda:topic` });
    return;
  }
  if (connector) {
    const connectorId = String(connector.connectorId ?? '').trim();
    if (connectorId === 'http-connector') topic = CONNECTOR_TOPICS.http;
    else model.notExecuted.push({ path: id, message: `<${id}>: connector "${connectorId}" is not available; Baton has http-connector` });
  } else if (kind in CONNECTOR_TOPICS) topic = CONNECTOR_TOPICS[kind as keyof typeof CONNECTOR_TOPICS];
  else if (kind === 'external' && typeof element.topic === 'string' && element.topic.trim()) topic = element.topic.trim();
  else if (extensions(element, 'zeebe:TaskDefinition').length) {
    const job = readZeebeTask(id, element, problems, model.notExecuted);
    if (!job) return;
    model.topics.set(id, job.topic);
    if (job.inputs.length) model.inputs.set(id, job.inputs);
    if (job.outputs.length) model.outputs.set(id, job.outputs);
    if (job.retry) model.retryPolicies.set(id, job.retry);
    return;
  } else {
    model.notExecuted.push({ path: id, message: `<${id}>: a ${type.slice(5)} needs camunda:type="external" and a camunda:topic` });
  }
  if (!topic) return;
  model.topics.set(id, topic);
  const own = readIo(id, element, problems);
  const io = connector ? readIo(id, connector.inputOutput as ModdleElement | undefined, problems) : own;
  if (connector) io.outputs.push(...own.outputs);
  if (io.inputs.length) model.inputs.set(id, io.inputs);
  if (io.outputs.length) model.outputs.set(id, io.outputs);
  const retry = readRetryCycle(id, element, problems);
  if (retry) model.retryPolicies.set(id, retry);
}

/** Reads the incident notice properties of a process or element. */
function readIncidentNotice(id: string, element: ModdleElement, model: ProcessModel, problems: Problem[]): void {
  const properties = readProperties(element);
  const notice: IncidentNotice = {};
  for (const channel of ['sms', 'email'] as const) {
    const text = properties[`baton.incident.${channel}`];
    if (text === undefined) continue;
    tryCheck(id, text, problems);
    notice[channel] = text;
  }
  if (notice.sms !== undefined || notice.email !== undefined) model.incidentNotices.set(id, notice);
}

function visitFlowElements(container: ModdleElement, model: ProcessModel, problems: Problem[], scripts: ScriptLanguages): void {
  const scope = String(container.id);
  for (const element of children(container, 'flowElements')) {
    const id = String(element.id);
    const type = element.$type;
    if (type !== 'bpmn:SequenceFlow') {
      model.elements.set(id, { id, name: String(element.name ?? id), type });
      model.parents.set(id, scope);
    }
    // a complex gateway splits as an inclusive one and joins by its activationCondition (BPMN 2.0, 13.4.5)
    const joins = type === 'bpmn:ComplexGateway' && children(container, 'flowElements').filter((flow) => flow.$type === 'bpmn:SequenceFlow' && flow.targetRef === element).length > 1;
    const activation = String((element.activationCondition as ModdleElement | undefined)?.body ?? '').trim();
    if (joins && activation) tryCheck(id, activation, problems);
    const activationProblem = !activation
      ? 'it joins without an activationCondition, which says when it fires'
      : !isExpression(activation) && `its activationCondition "${activation.slice(0, 60)}" is text, not an expression such as \${activationCount >= 2}`;
    // a complex join Baton cannot decide on: the process is deployed for viewing, never started
    const notExecuted = joins && activationProblem;
    if (notExecuted) model.notExecuted.push({ path: id, message: `${type[5]?.toLowerCase()}${type.slice(6)} <${id}>: ${notExecuted}` });
    if (EXTERNAL_TYPES.has(type)) {
      readExternalTask(id, type, element, model, problems);
      readIncidentNotice(id, element, model, problems);
    }
    if (type === 'bpmn:BoundaryEvent') {
      const catcher = readErrorCatcher(element);
      const attachedTo = (element.attachedToRef as ModdleElement | undefined)?.id;
      if (catcher && attachedTo) model.errorBoundaries.set(attachedTo, [...(model.errorBoundaries.get(attachedTo) ?? []), catcher]);
    }
    if (type === 'bpmn:StartEvent' && container.$type === 'bpmn:SubProcess' && container.triggeredByEvent) {
      const catcher = readErrorCatcher(element);
      const watched = model.parents.get(scope);
      if (catcher && watched) model.errorStarts.set(watched, [...(model.errorStarts.get(watched) ?? []), catcher]);
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
        ...readZeebeAssignment(id, element, model.notExecuted),
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
        model.notExecuted.push({ path: id, message: `<${id}>: script conditions (${String(condition.language)}) are refused; use \${...}` });
      } else if (String(condition.body ?? '').trim() && !isExpression(String(condition.body))) {
        model.notExecuted.push({ path: id, message: `<${id}>: the condition "${String(condition.body).trim().slice(0, 60)}" is text, not an expression such as \${amount > 100}` });
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
    if (type === 'bpmn:ScriptTask') problems.push(...checkScriptTask(element, scripts));
    if (type === 'bpmn:CallActivity') readCallActivity(element, model, problems, scripts);
    const multiInstance = multiInstanceProblem(element);
    if (multiInstance) model.notExecuted.push(multiInstance);
    if (children(element, 'flowElements').length) visitFlowElements(element, model, problems, scripts);
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
export function readProcesses(context: ModdleContext, scripts: ScriptLanguages = NO_SCRIPTS): { processes: ProcessModel[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const processes: ProcessModel[] = [];
  const definitions = context.rootElement;
  for (const root of children(definitions, 'rootElements')) {
    if (root.$type !== 'bpmn:Process') continue;
    const model = emptyModel(String(root.id), String(root.name ?? root.id), root.isExecutable === true);
    const processProblems: Problem[] = [];
    readIncidentNotice(model.key, root, model, processProblems);
    visitFlowElements(root, model, processProblems, scripts);
    if (model.executable) problems.push(...processProblems);
    else model.notExecuted.unshift({ path: model.key, message: `process <${model.key}> is not executable (isExecutable="true" is not set): deployed for viewing` });
    processes.push(model);
  }
  if (!processes.length) {
    // a collaboration of empty pools, a choreography, a conversation: a diagram to look at
    const key = String(definitions.id ?? 'definitions');
    const model = emptyModel(key, String(definitions.name ?? key), false);
    model.notExecuted.push({ path: key, message: 'the file holds no process: deployed for viewing' });
    processes.push(model);
  }
  return { processes, problems };
}

/** A process model with nothing read into it yet. */
function emptyModel(key: string, name: string, executable: boolean): ProcessModel {
  return {
    key,
    name,
    executable,
    notExecuted: [],
    elements: new Map(),
    startForm: [],
    userTasks: new Map(),
    topics: new Map(),
    messages: new Map(),
    inputs: new Map(),
    outputs: new Map(),
    retryPolicies: new Map(),
    parents: new Map(),
    errorBoundaries: new Map(),
    errorStarts: new Map(),
    incidentNotices: new Map(),
    calledProcesses: [],
  };
}

/**
 * The error boundary event or event sub-process that would catch a BPMN error with this code
 * thrown at an element: the element's own boundary events first, then each enclosing scope's,
 * as bpmn-elements matches them. Null when nothing catches it.
 */
export function findErrorCatcher(model: ProcessModel, elementId: string, code: string): ErrorCatcher | null {
  const matches = (catcher: ErrorCatcher): boolean => catcher.errorCode === null || catcher.errorCode === code;
  let found = model.errorBoundaries.get(elementId)?.find(matches);
  for (let scope = model.parents.get(elementId); !found && scope; scope = model.parents.get(scope)) {
    found = model.errorStarts.get(scope)?.find(matches) ?? model.errorBoundaries.get(scope)?.find(matches);
  }
  return found ?? null;
}

/**
 * The call activity an error thrown at `elementId` leaves through to reach `catcherId`: the one
 * that called the process the thrower runs in, when the catcher is outside that process. Null
 * when the catcher is in the thrower's own process (bpmn-elements delivers it there).
 */
export function callActivityBetween(model: ProcessModel, elementId: string, catcherId: string): string | null {
  for (let at = model.parents.get(elementId); at; at = model.parents.get(at)) {
    if (!model.calledProcesses.includes(at)) continue;
    return isWithin(model, catcherId, at) ? null : (model.parents.get(at) ?? null);
  }
  return null;
}

/** Whether element `id` is `scope` or lies inside it (a sub-process, a called process). */
export function isWithin(model: ProcessModel, id: string, scope: string): boolean {
  for (let at: string | undefined = id; at; at = model.parents.get(at)) if (at === scope) return true;
  return false;
}
