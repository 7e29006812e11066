import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import * as TaskElements from 'bpmn-elements/tasks';
import type { Problem } from '../errors.ts';
import { checkScriptTask, type ScriptLanguages } from './scripts.ts';

/**
 * Call activities that call a global task (BPMN 2.0, 10.3.6): a global task is a task defined once
 * at the top of a file, and a call activity calling it does what that task does, in the caller's
 * instance. Baton runs calls of a globalScriptTask (its script in its scriptLanguage, under the
 * same rules as a script task) and of a plain globalTask (nothing to do); other global tasks
 * (user, manual, business rule) are not executed.
 */

/** The global task types a call activity can call. */
export const CALLABLE_GLOBAL_TASKS = new Set(['bpmn:GlobalScriptTask', 'bpmn:GlobalTask']);

/** What a call activity runs in place, as compileProcess hands it to the engine. */
interface CalledTask {
  type: string;
  scriptFormat?: string;
  script?: string;
}

/** The property of the parsed call activity that carries its {@link CalledTask}. */
const CALLED_TASK = 'batonCalledTask';

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** The problems of a call of the global task `called` at deployment: a script must be enabled and valid. */
export function checkGlobalTaskCall(callId: string, called: ModdleElement, scripts: ScriptLanguages): Problem[] {
  if (called.$type !== 'bpmn:GlobalScriptTask') return [];
  const problems = checkScriptTask({ id: called.id, scriptFormat: called.scriptLanguage, script: called.script }, scripts);
  return problems.map((problem) => ({
    path: callId,
    message: `callActivity <${callId}> calls globalScriptTask <${String(called.id)}>: ${problem.message.replace(/^ScriptTask <[^>]*>: /, '').replace('scriptFormat', 'scriptLanguage')}`,
  }));
}

/** Hands each call activity of a global task what it runs. Run on a freshly parsed context, before pruning. */
export function prepareGlobalTaskCalls(context: ModdleContext): void {
  for (const element of Object.values(context.elementsById)) {
    if (element.$type !== 'bpmn:CallActivity') continue;
    const called = context.elementsById[text(element.calledElement) ?? ''];
    if (!called || !CALLABLE_GLOBAL_TASKS.has(called.$type)) continue;
    const task: CalledTask = { type: called.$type, scriptFormat: text(called.scriptLanguage), script: typeof called.script === 'string' ? called.script : '' };
    element[CALLED_TASK] = task;
  }
}

type ActivityDefinition = { behaviour?: Record<string, unknown> };
const library = Elements as unknown as {
  Activity: new (Behaviour: unknown, definition: ActivityDefinition, context: unknown) => object;
  CallActivity: (definition: ActivityDefinition, context: unknown) => object;
};
const tasks = TaskElements as unknown as { ScriptTaskBehaviour: unknown; TaskBehaviour: unknown };

/** A call activity: of a global task, that task run as the call activity; else bpmn-elements' own. */
export function CallActivity(activityDef: ActivityDefinition, context: unknown) {
  const task = activityDef.behaviour?.[CALLED_TASK] as CalledTask | undefined;
  if (!task) return library.CallActivity(activityDef, context);
  if (task.type !== 'bpmn:GlobalScriptTask') return new library.Activity(tasks.TaskBehaviour, activityDef, context);
  const behaviour = { ...activityDef.behaviour, scriptFormat: task.scriptFormat, script: task.script };
  return new library.Activity(tasks.ScriptTaskBehaviour, { ...activityDef, behaviour }, context);
}
