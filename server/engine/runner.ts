import { Engine } from 'bpmn-engine';
import type { Json, MessageSubscription, Timer, Variables } from '../store/types.ts';
import type { CompiledProcess } from './definitions.ts';
import { evaluate } from './expressions.ts';
import { evaluateParameters } from './extensions.ts';
import { createDurableTimers } from './timers.ts';

/** What happens to an instance in one run: the event that loads it. */
export type Action =
  | { type: 'start' }
  | { type: 'completeTask'; executionId: string; variables: Variables }
  | { type: 'completeJob'; executionId: string; variables: Variables; local?: Variables }
  | { type: 'jobError'; executionId: string; code: string; message: string }
  | { type: 'fireTimers' }
  | { type: 'message'; messageId: string; variables: Variables };

/** A step the engine took, as history records it. */
export interface EngineEvent {
  type: string;
  elementId: string;
  elementName?: string;
  elementType?: string;
  executionId?: string;
  data?: Variables;
}

export interface RunInput {
  process: CompiledProcess;
  /** the saved engine state; null to start */
  state: Json | null;
  variables: Variables;
  /** the timers saved with the state: their due dates are kept */
  timers: Timer[];
  action: Action;
  now: Date;
}

/** Where the instance stands when every token waits. */
export interface RunResult {
  status: 'running' | 'completed' | 'failed';
  error: string | null;
  state: Json;
  variables: Variables;
  userTasks: { executionId: string; elementId: string; name: string }[];
  jobs: { executionId: string; elementId: string; name: string; topic: string }[];
  timers: Timer[];
  messages: MessageSubscription[];
  events: EngineEvent[];
}

/** Thrown when the action targets something that does not wait (any more). */
export class NotWaitingError extends Error {}

type Callback = (err: Error | null, output?: unknown) => void;
interface Api {
  id: string;
  type: string;
  name?: string;
  executionId: string;
  content: { message?: { id?: string; name?: string }; error?: { message?: string } };
  signal(message?: unknown): void;
}

interface Postponed {
  executionId: string;
  getPostponed?: () => Postponed[];
}

const USER_TASK_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask']);

/**
 * Runs one event of one instance on a fresh bpmn-engine: recover the state, resume, apply the
 * action, wait until every token waits, and report. No engine outlives the call (DESIGN.md,
 * decision 2). Service and send tasks never run here: they become jobs for workers.
 */
export async function runInstance(input: RunInput): Promise<RunResult> {
  const { process, action, now } = input;
  const { model } = process;
  const variables: Variables = structuredClone(input.variables);
  const events: EngineEvent[] = [];
  const seen = new Set<string>();
  const services = new Map<string, { elementId: string; name: string; topic: string; callback: Callback }>();
  const waiting = new Map<string, { elementId: string; name: string; type: string; messageId?: string }>();
  let replaying = input.state !== null;
  let outcome: { status: 'completed' | 'failed'; error: string | null } | null = null;

  const timers = createDurableTimers(input.timers, now, () => !replaying);

  const forget = (executionId: string): void => {
    services.delete(executionId);
    waiting.delete(executionId);
    timers.forget(executionId);
  };

  const record = (type: string, api: Api, data?: Variables): void => {
    if (replaying) return;
    const element = model.elements.get(api.id);
    events.push({
      type,
      elementId: api.id,
      ...(element ? { elementName: element.name, elementType: element.type } : {}),
      ...(api.executionId ? { executionId: api.executionId } : {}),
      ...(data ? { data } : {}),
    });
  };

  const listener = {
    emit(name: string, api: Api | undefined): boolean {
      if (!api) return false;
      const isElement = model.elements.has(api.id) && !api.type.endsWith('EventDefinition');
      if (replaying && api.executionId) seen.add(api.executionId);
      switch (name) {
        case 'activity.start':
          if (isElement) {
            seen.add(api.executionId);
            record('element.started', api);
          }
          break;
        case 'activity.wait':
          if (USER_TASK_TYPES.has(api.type)) {
            waiting.set(api.executionId, { elementId: api.id, name: api.name ?? api.id, type: api.type });
            record('element.waiting', api);
          } else if (api.content.message?.id) {
            waiting.set(api.executionId, { elementId: api.id, name: api.name ?? api.id, type: api.type, messageId: api.content.message.id });
          }
          break;
        case 'activity.timeout':
          record('timer.fired', api);
          break;
        case 'activity.end':
          forget(api.executionId);
          if (isElement) record('element.completed', api);
          break;
        case 'activity.error':
          forget(api.executionId);
          if (isElement) record('element.failed', api, { message: api.content.error?.message ?? 'error' });
          break;
        case 'activity.discard':
        case 'activity.execution.discard':
          forget(api.executionId);
          if (isElement && seen.delete(api.executionId)) record('element.cancelled', api);
          break;
        case 'activity.leave':
          forget(api.executionId);
          break;
        case 'flow.take':
          record('flow.taken', api);
          break;
      }
      return true;
    },
  };

  /** remembers what was running when the instance was loaded, in sub-processes too */
  const remember = (postponed: Postponed[]): void => {
    for (const api of postponed) {
      if (seen.has(api.executionId)) continue;
      seen.add(api.executionId);
      if (api.getPostponed) remember(api.getPostponed());
    }
  };

  /** a job whose task was interrupted (boundary event, sub-process error) is withdrawn */
  const withdraw = (elementId: string, executionId: string): void => {
    if (!services.delete(executionId) || !seen.delete(executionId)) return;
    const element = model.elements.get(elementId);
    record('element.cancelled', { id: elementId, type: element?.type ?? '', executionId } as Api);
  };

  const extensions = {
    baton(activity: { id: string; name?: string; behaviour: Record<string, unknown> }) {
      const topic = model.topics.get(activity.id);
      if (!topic) return;
      activity.behaviour.Service = function JobService() {
        let executionId = '';
        return {
          execute(message: { content: { executionId: string } }, callback: Callback) {
            executionId = message.content.executionId;
            seen.add(executionId);
            services.set(executionId, { elementId: activity.id, name: activity.name ?? activity.id, topic, callback });
          },
          discard: () => withdraw(activity.id, executionId),
          stop: () => withdraw(activity.id, executionId),
        };
      };
    },
  };

  const engine = new Engine({
    name: model.key,
    sourceContext: process.sourceContext,
    extensions,
    timers: timers.api,
    expressions: { resolveExpression: (expression: string) => evaluate(expression, variables) },
  } as unknown as ConstructorParameters<typeof Engine>[0]);
  engine.once('end', () => (outcome = { status: 'completed', error: null }));
  engine.once('error', (err: Error) => (outcome = { status: 'failed', error: err.message }));

  if (input.state === null) {
    await engine.execute({ listener, variables } as unknown as Parameters<typeof engine.execute>[0]);
  } else {
    engine.recover(structuredClone(input.state) as Parameters<typeof engine.recover>[0]);
    await engine.resume({ listener } as unknown as Parameters<typeof engine.resume>[0]);
    await timers.settle();
    remember(engine.execution.getPostponed() as unknown as Postponed[]);
    replaying = false;
    apply();
  }
  await timers.settle();

  function apply(): void {
    switch (action.type) {
      case 'start':
        return;
      case 'completeJob':
      case 'jobError': {
        const service = services.get(action.executionId);
        if (!service) throw new NotWaitingError(`external task <${action.executionId}> does not wait`);
        services.delete(action.executionId);
        if (action.type === 'completeJob') {
          // with output parameters only what they map reaches the instance (Camunda's rule)
          const outputs = model.outputs.get(service.elementId);
          const values = outputs ? evaluateParameters(outputs, { ...variables, ...action.local, ...action.variables }) : action.variables;
          Object.assign(variables, values);
          service.callback(null, values);
        } else {
          service.callback(Object.assign(new Error(action.message), { code: action.code }));
        }
        return;
      }
      case 'completeTask': {
        const task = waiting.get(action.executionId);
        if (!task || !USER_TASK_TYPES.has(task.type)) throw new NotWaitingError(`task <${action.executionId}> does not wait`);
        Object.assign(variables, action.variables);
        engine.execution.signal({ id: task.elementId, executionId: action.executionId, ...action.variables });
        return;
      }
      case 'message': {
        Object.assign(variables, action.variables);
        engine.execution.signal({ id: action.messageId, ...action.variables });
        return;
      }
      case 'fireTimers':
        timers.fireDue();
        return;
    }
  }

  const state = (await engine.getState()) as unknown as { definitions: { source?: unknown }[] };
  for (const definition of state.definitions) delete definition.source;
  const finished = outcome as { status: 'completed' | 'failed'; error: string | null } | null;
  const running = !finished;
  return {
    status: finished?.status ?? 'running',
    error: finished?.error ?? null,
    state: state as unknown as Json,
    variables,
    userTasks: running
      ? [...waiting].filter(([, w]) => USER_TASK_TYPES.has(w.type)).map(([executionId, w]) => ({ executionId, elementId: w.elementId, name: w.name }))
      : [],
    jobs: running ? [...services].map(([executionId, s]) => ({ executionId, elementId: s.elementId, name: s.name, topic: s.topic })) : [],
    timers: running ? timers.pending() : [],
    messages: running
      ? [...waiting]
          .filter(([, w]) => w.messageId)
          .map(([executionId, w]) => ({
            name: model.messages.get(w.messageId as string) ?? (w.messageId as string),
            elementId: w.elementId,
            executionId,
          }))
      : [],
    events,
  };
}
