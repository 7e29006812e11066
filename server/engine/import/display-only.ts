import type { ModdleContext, ModdleElement } from 'bpmn-moddle';

/**
 * The parts of a BPMN file that Baton keeps for display and ignores for execution, described for
 * the deployment report: pools without a process, message flows, choreographies, conversations,
 * lanes, data objects, definitions that only document (item definitions, interfaces, resources,
 * global tasks) and extensions of other tools.
 */

/** Every element contained in `element` (not the ones it refers to), depth first. */
export function* contained(element: ModdleElement): Generator<ModdleElement> {
  yield element;
  for (const [property, value] of Object.entries(element)) {
    if (property.startsWith('$') || property === 'di') continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child === 'object' && typeof (child as ModdleElement).$type === 'string' && (child as ModdleElement).$parent === element) {
        yield* contained(child as ModdleElement);
      }
    }
  }
}

/** Adds a value to the list kept under a key (in place: a file with many of a kind costs linear time). */
export function append<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}

const KINDS: [types: string[], kind: string, why: string][] = [
  [['bpmn:Participant'], 'pool', 'a pool without a process is kept for display'],
  [['bpmn:MessageFlow'], 'message flow', 'kept for display; messages reach Baton through its API'],
  [['bpmn:Choreography', 'bpmn:GlobalChoreographyTask'], 'choreography', 'kept for display, not executed'],
  [['bpmn:Conversation', 'bpmn:SubConversation', 'bpmn:CallConversation', 'bpmn:GlobalConversation'], 'conversation', 'kept for display, not executed'],
  [['bpmn:Lane'], 'lane', 'kept for display, ignored for execution (tasks are assigned by assignee and candidate groups)'],
  [['bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference', 'bpmn:DataStore'], 'data object or store', 'kept for display; process data lives in variables'],
  [
    ['bpmn:ItemDefinition', 'bpmn:Interface', 'bpmn:Resource', 'bpmn:PartnerEntity', 'bpmn:PartnerRole', 'bpmn:EndPoint', 'bpmn:CorrelationProperty', 'bpmn:Category'],
    'definition',
    'documents the model, not used for execution',
  ],
  [['bpmn:GlobalTask', 'bpmn:GlobalUserTask', 'bpmn:GlobalManualTask', 'bpmn:GlobalScriptTask', 'bpmn:GlobalBusinessRuleTask'], 'global task', 'kept for display; call activities do not call it'],
];

/** The Camunda 7 and Zeebe settings Baton reads (model.ts, extensions.ts, zeebe.ts); others get a note. */
const READ = new Set([
  'camunda:type', 'camunda:topic', 'camunda:assignee', 'camunda:candidateUsers', 'camunda:candidateGroups', 'camunda:class',
  'camunda:expression', 'camunda:delegateExpression', 'camunda:errorCodeVariable', 'camunda:errorMessageVariable', 'camunda:resultVariable',
  'camunda:FormData', 'camunda:InputOutput', 'camunda:Connector', 'camunda:FailedJobRetryTimeCycle', 'camunda:Properties',
  'zeebe:TaskDefinition', 'zeebe:AssignmentDefinition', 'zeebe:IoMapping',
]);
const VENDORS = ['camunda', 'zeebe'];

/** Camunda or Zeebe attributes and extension elements on an element that Baton does not read. */
function unreadSettings(element: ModdleElement): string[] {
  const unread: string[] = [];
  if (!element.$type.startsWith('bpmn:')) return unread;
  const descriptor = (element as { $descriptor?: { properties?: { name: string; ns?: { prefix?: string } }[] } }).$descriptor;
  for (const property of descriptor?.properties ?? []) {
    const prefix = property.ns?.prefix ?? '';
    if (!VENDORS.includes(prefix) || property.name === 'extensionElements') continue;
    const name = property.name.includes(':') ? property.name : `${prefix}:${property.name}`;
    const local = property.name.split(':').pop() ?? '';
    // moddle keeps what the file sets as own properties; defaults come from the prototype
    if (Object.prototype.hasOwnProperty.call(element, local) && !READ.has(name)) unread.push(name);
  }
  const values = (element.extensionElements as ModdleElement | undefined)?.values;
  for (const extension of Array.isArray(values) ? (values as ModdleElement[]) : []) {
    if (VENDORS.includes(extension.$type.split(':')[0] ?? '') && !READ.has(extension.$type)) unread.push(extension.$type);
  }
  return unread;
}

const OWN_PREFIXES = new Set(['bpmn', 'bpmndi', 'di', 'dc', 'camunda', 'zeebe', 'modeler', 'xsi', 'xml', 'xmlns']);

const list = (ids: string[]): string => {
  const shown = ids.slice(0, 5).map((id) => `<${id}>`).join(', ');
  return ids.length > 5 ? `${shown} and ${ids.length - 5} more` : shown;
};

/** One line per kind of display-only part, naming its elements. */
export function describeDisplayOnly(context: ModdleContext): string[] {
  const found = new Map<string, string[]>();
  const foreign = new Set<string>();
  const unread = new Map<string, string[]>();
  for (const element of contained(context.rootElement)) {
    for (const name of unreadSettings(element)) append(unread, name, String(element.id ?? '?'));
    const type = element.$type;
    const entry = KINDS.find(([types]) => types.includes(type));
    if (entry && !(type === 'bpmn:Participant' && element.processRef)) {
      append(found, entry[1], String(element.id ?? '?'));
    }
    const prefix = type.split(':')[0] ?? '';
    if (!OWN_PREFIXES.has(prefix)) foreign.add(prefix);
    for (const attribute of Object.keys(element.$attrs ?? {})) {
      const attributePrefix = attribute.includes(':') ? attribute.split(':')[0] ?? '' : '';
      if (attributePrefix && !OWN_PREFIXES.has(attributePrefix)) foreign.add(attributePrefix);
    }
  }
  const notes = KINDS.filter(([, kind]) => found.has(kind)).map(([, kind, why]) => {
    const ids = found.get(kind) ?? [];
    return `${kind}${ids.length > 1 ? 's' : ''} ${list(ids)}: ${why}`;
  });
  for (const [name, ids] of unread) notes.push(`${name} on ${list(ids)}: not read by Baton, ignored`);
  if (foreign.size) notes.push(`extensions of other tools (${[...foreign].sort().join(', ')}): ignored`);
  return notes;
}
