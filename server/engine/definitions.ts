import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { BpmnModdle, type ModdleContext } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import serializer, { TypeResolver, type SerializedContext } from 'moddle-context-serializer';
import { ValidationError, type Problem } from '../errors.ts';
import { checkConstraints, rulesRefuse, unreadableIds } from './import/constraints.ts';
import { contained, describeDisplayOnly } from './import/display-only.ts';
import { pruneForEngine } from './import/prune.ts';
import { readProcesses, type ProcessModel } from './model.ts';
import { BEHAVIOURS, prepareForExecution } from './behaviours.ts';
import { BPMN_PACKAGE } from './bpmn-schema.ts';
import { BoundaryEvent } from './boundary-events.ts';
import { CallActivity, prepareGlobalTaskCalls } from './global-tasks.ts';
import { MultiInstanceLoopCharacteristics, prepareMultiInstanceEvents } from './multi-instance.ts';
import { ConditionalEventDefinition, TimerEventDefinition } from './resumed-events.ts';
import { Process } from './unbounded-prefetch.ts';
import { NO_SCRIPTS, type ScriptLanguages } from './scripts.ts';

const require = createRequire(import.meta.url);
const camunda = require('camunda-bpmn-moddle/resources/camunda.json') as object;
const zeebe = require('zeebe-bpmn-moddle/resources/zeebe.json') as object;
const CAMUNDA_NS = 'http://camunda.org/schema/1.0/bpmn';
const ZEEBE_NS = 'http://camunda.org/schema/zeebe/1.0';
const typeResolver = TypeResolver({
  ...Elements,
  ...BEHAVIOURS,
  BoundaryEvent,
  CallActivity,
  MultiInstanceLoopCharacteristics,
  TimerEventDefinition,
  ConditionalEventDefinition,
  Process,
});

/** The result of reading a BPMN file: its processes and every problem found. */
export interface ParsedBpmn {
  processes: ProcessModel[];
  problems: Problem[];
  warnings: Problem[];
  /** the parts kept for display and ignored for execution, one line per kind */
  displayOnly: string[];
}

/** A process ready to run: its model and bpmn-engine's parsed definition, made once per version. */
export interface CompiledProcess {
  model: ProcessModel;
  sourceContext: SerializedContext;
}

/** sha-256 of a BPMN text, used to tell versions apart. */
export function hashXml(xml: string): string {
  return createHash('sha256').update(xml).digest('hex');
}

/** The moddle that reads one BPMN text. */
export function moddleFor(xml: string): BpmnModdle {
  // the two descriptors clash (both extend bpmn elements with modelerTemplate): a file gets the
  // one of the tool that wrote it, Camunda 8 files being the ones that declare only zeebe
  const zeebeOnly = xml.includes(ZEEBE_NS) && !xml.includes(CAMUNDA_NS);
  return new BpmnModdle(zeebeOnly ? { bpmn: BPMN_PACKAGE, zeebe } : { bpmn: BPMN_PACKAGE, camunda });
}

async function moddleContext(xml: string): Promise<ModdleContext> {
  return moddleFor(xml).fromXML(xml);
}

/**
 * Parses and checks a BPMN file. Refuses a DOCTYPE (external entities, entity expansion) before
 * the XML parser sees it; reports the parser's warnings with the element they concern. Problems
 * refuse the file: it is unreadable, breaks a rule of the BPMN specification, or an executable
 * process is configured wrongly. What Baton only does not execute (a non-executable process, an
 * unsupported element, a file without a process) is in each process's `notExecuted`: such
 * processes are deployed for viewing and refused when started.
 */
export async function parseBpmn(xml: string, scripts: ScriptLanguages = NO_SCRIPTS): Promise<ParsedBpmn> {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    return { processes: [], problems: [{ message: 'XML with a DOCTYPE or entity declarations is refused' }], warnings: [], displayOnly: [] };
  }
  let context: ModdleContext;
  try {
    context = await moddleContext(xml);
  } catch (err) {
    return { processes: [], problems: [{ message: `not valid BPMN XML: ${(err as Error).message}` }], warnings: [], displayOnly: [] };
  }
  const unreadable = unreadableIds(context);
  if (unreadable.length) return { processes: [], problems: unreadable, warnings: [], displayOnly: [] };
  if (context.rootElement?.$type !== 'bpmn:Definitions') {
    return { processes: [], problems: [{ message: 'the root element is not bpmn:definitions' }], warnings: [], displayOnly: [] };
  }
  const warnings = context.warnings.map((warning) => ({
    ...(warning.element?.id ? { path: warning.element.id } : {}),
    message: warning.message.split('\n')[0] ?? warning.message,
  }));
  const { processes, problems: found } = readProcesses(context, scripts);
  // the rules of the specification refuse a file with an executable process (or none); one of processes marked only for viewing keeps them as warnings
  const violations = checkConstraints(context, xml);
  const refuse = rulesRefuse(context);
  let problems = [...(refuse ? violations : []), ...found];
  if (!refuse) warnings.push(...violations);
  if (problems.length) {
    // a refused file lists everything to change before it runs, in the order of the file
    const position = new Map([...contained(context.rootElement)].map((element, index) => [element.id, index]));
    const at = (problem: Problem): number => position.get(problem.path) ?? -1;
    const notExecuted = processes.filter((process) => process.executable).flatMap((process) => process.notExecuted);
    problems = [...problems, ...notExecuted].sort((a, b) => at(a) - at(b));
  } else {
    for (const process of processes.filter(isRunnable)) {
      try {
        await compileProcess(xml, process.key);
      } catch (err) {
        process.notExecuted.push(...((err as ValidationError).problems ?? [{ path: process.key, message: (err as Error).message }]));
      }
    }
  }
  return { processes, problems, warnings, displayOnly: describeDisplayOnly(context) };
}

/** parsed files kept by content; the oldest beyond this are parsed again when needed (memory stays bounded) */
const CACHE_SIZE = 100;
const compiled = new Map<string, Promise<CompiledProcess>>();

/** True when Baton will start the process: it is executable and uses only what Baton executes. */
export const isRunnable = (model: ProcessModel): boolean => model.executable && !model.notExecuted.length;

const models = new Map<string, Promise<ProcessModel>>();

/** What Baton reads of one process (or diagram) of a stored file, for listing and viewing. */
export function readModel(xml: string, key: string): Promise<ProcessModel> {
  const cacheKey = `${hashXml(xml)}:${key}`;
  let entry = models.get(cacheKey);
  if (!entry) {
    entry = moddleContext(xml).then((context) => {
      const model = readProcesses(context).processes.find((process) => process.key === key);
      if (!model) throw new Error(`process <${key}> not found`);
      return model;
    });
    entry.catch(() => models.delete(cacheKey));
    if (models.size >= CACHE_SIZE) models.delete(models.keys().next().value as string);
    models.set(cacheKey, entry);
  }
  return entry;
}

/**
 * The compiled form of one process of a BPMN file, cached by content and key: definitions are
 * parsed once per version, never per instance. bpmn-engine gets only this process and what its
 * events refer to. A process Baton does not execute is refused here with the reasons.
 */
export function compileProcess(xml: string, key: string): Promise<CompiledProcess> {
  const cacheKey = `${hashXml(xml)}:${key}`;
  let entry = compiled.get(cacheKey);
  if (!entry) {
    entry = (async () => {
      const context = await moddleContext(xml);
      const { processes } = readProcesses(context);
      const model = processes.find((process) => process.key === key);
      if (!model) throw new Error(`process <${key}> not found`);
      if (!isRunnable(model)) {
        throw new ValidationError(`process <${key}> is deployed for viewing only: Baton does not execute it`, model.notExecuted);
      }
      prepareGlobalTaskCalls(context);
      prepareMultiInstanceEvents(context);
      pruneForEngine(context, key, model.calledProcesses);
      try {
        prepareForExecution(context);
        return { model, sourceContext: serializer(context, typeResolver) };
      } catch (err) {
        const reason = { path: key, message: `process <${key}>: bpmn-engine cannot load it: ${(err as Error).message}` };
        throw new ValidationError(`process <${key}> is deployed for viewing only: Baton does not execute it`, [reason]);
      }
    })();
    entry.catch(() => compiled.delete(cacheKey));
    if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
    compiled.set(cacheKey, entry);
  }
  return entry;
}
