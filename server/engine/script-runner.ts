import { ScriptBpmnError, type ScriptLanguages, type ScriptOutcome } from './scripts.ts';
import type { Variables } from '../store/types.ts';

type Callback = (err: Error | null, output?: unknown) => void;

interface ScriptActivity {
  id: string;
  behaviour: { script?: string; resultVariable?: string };
}

/**
 * bpmn-elements' `scripts` option: script tasks run in the enabled languages only. A script's
 * variables join the instance's; a {@link ScriptBpmnError} becomes a BPMN error at the task.
 */
export function createScriptRunner(deps: { languages: ScriptLanguages; instanceId: string; variables: Variables; running: Map<string, Promise<void>> }) {
  const { languages, instanceId, variables, running } = deps;
  return {
    register(): void {},
    getScript(format: string | undefined, activity: ScriptActivity) {
      const language = languages.get(format);
      if (!language) return undefined;
      const script = activity.behaviour.script ?? '';
      return {
        execute(scope: { content: { executionId: string } }, callback: Callback): void {
          const { executionId } = scope.content;
          const done = (outcome: ScriptOutcome | undefined): void => {
            if (outcome?.variables) Object.assign(variables, outcome.variables);
            callback(null, outcome?.variables);
          };
          const failed = (err: unknown): void => {
            const error = err instanceof Error ? err : new Error(String(err));
            callback(err instanceof ScriptBpmnError ? Object.assign(error, { code: err.code }) : error);
          };
          let result: ScriptOutcome | Promise<ScriptOutcome>;
          try {
            const { resultVariable } = activity.behaviour;
            const context = { instanceId, elementId: activity.id, variables: structuredClone(variables), ...(resultVariable ? { resultVariable } : {}) };
            result = language.run(script, context);
          } catch (err) {
            return failed(err);
          }
          if (!(result instanceof Promise)) return done(result);
          const pending = result.then(
            (outcome) => {
              // a task interrupted meanwhile (boundary event, terminate) no longer takes its result
              if (running.get(executionId) !== pending) return;
              running.delete(executionId);
              done(outcome);
            },
            (err: unknown) => {
              if (running.get(executionId) !== pending) return;
              running.delete(executionId);
              failed(err);
            },
          );
          running.set(executionId, pending);
        },
      };
    },
  };
}
