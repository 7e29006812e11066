import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { BpmnModdle, type ModdleContext } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import serializer, { TypeResolver, type SerializedContext } from 'moddle-context-serializer';
import type { Problem } from '../errors.ts';
import { readProcesses, type ProcessModel } from './model.ts';

const camunda = createRequire(import.meta.url)('camunda-bpmn-moddle/resources/camunda.json') as object;
const typeResolver = TypeResolver({ ...Elements });

/** The result of reading a BPMN file: its processes and every problem found. */
export interface ParsedBpmn {
  processes: ProcessModel[];
  problems: Problem[];
  warnings: Problem[];
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

async function moddleContext(xml: string): Promise<ModdleContext> {
  return new BpmnModdle({ camunda }).fromXML(xml);
}

/**
 * Parses and checks a BPMN file. Refuses a DOCTYPE (external entities, entity expansion) before
 * the XML parser sees it; reports the parser's warnings with the element they concern.
 */
export async function parseBpmn(xml: string): Promise<ParsedBpmn> {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    return { processes: [], problems: [{ message: 'XML with a DOCTYPE or entity declarations is refused' }], warnings: [] };
  }
  let context: ModdleContext;
  try {
    context = await moddleContext(xml);
  } catch (err) {
    return { processes: [], problems: [{ message: `not valid BPMN XML: ${(err as Error).message}` }], warnings: [] };
  }
  if (context.rootElement?.$type !== 'bpmn:Definitions') {
    return { processes: [], problems: [{ message: 'the root element is not bpmn:definitions' }], warnings: [] };
  }
  const warnings = context.warnings.map((warning) => ({
    ...(warning.element?.id ? { path: warning.element.id } : {}),
    message: warning.message.split('\n')[0] ?? warning.message,
  }));
  const { processes, problems } = readProcesses(context);
  if (!problems.length) {
    for (const process of processes.filter((p) => p.executable)) {
      try {
        await compileProcess(xml, process.key);
      } catch (err) {
        problems.push({ path: process.key, message: `process <${process.key}> cannot be loaded: ${(err as Error).message}` });
      }
    }
  }
  return { processes, problems, warnings };
}

const compiled = new Map<string, Promise<CompiledProcess>>();

/**
 * The compiled form of one process of a BPMN file, cached by content and key: definitions are
 * parsed once per version, never per instance. Other processes of the file are made
 * non-executable so that only the chosen one starts.
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
      for (const root of context.rootElement.rootElements as { $type: string; id: string; isExecutable?: boolean }[]) {
        if (root.$type === 'bpmn:Process' && root.id !== key) root.isExecutable = false;
      }
      return { model, sourceContext: serializer(context, typeResolver) };
    })();
    entry.catch(() => compiled.delete(cacheKey));
    compiled.set(cacheKey, entry);
  }
  return entry;
}
