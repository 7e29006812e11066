/**
 * The foundation alone: the salary process on bare bpmn-engine, in memory, in this process. One
 * parsed definition (bpmn-engine's serialized context) is reused by every instance; the service
 * tasks answer at once and the approval is signalled as soon as it waits. This is the limit
 * Baton's own figures are compared with (W2).
 */
import { Engine } from 'bpmn-engine';
import { compileProcess } from '../../server/engine/definitions.ts';
import { evaluate } from '../../server/engine/expressions.ts';
import type { Variables } from '../../server/store/types.ts';

type Callback = (err: Error | null, output?: unknown) => void;

/** the same quiet logger Baton gives its engines: `debug` costs a tty check per element per run */
const silent = () => ({ debug() {}, error() {}, warn() {} });

const ANSWERS: Record<string, Variables> = {
  'accounting.salary-base': { salaryBase: 5000 },
  'bonus.calculate': { bonus: 500 },
  'accounting.payroll': { payrollId: 'P-1' },
};

/** Runs one salary instance to its end on a fresh engine; resolves with its end state. */
export async function runBareSalary(xml: string, employeeId: string): Promise<string> {
  const { model, sourceContext } = await compileProcess(xml, 'salary');
  const variables: Variables = { employeeId };
  const extensions = {
    answers(activity: { id: string; behaviour: Record<string, unknown> }) {
      const topic = model.topics.get(activity.id);
      if (!topic) return;
      activity.behaviour.Service = function InstantService() {
        return {
          execute(_message: unknown, callback: Callback) {
            Object.assign(variables, ANSWERS[topic] ?? {});
            callback(null, ANSWERS[topic] ?? {});
          },
        };
      };
    },
  };
  const engine = new Engine({
    name: 'salary',
    sourceContext,
    extensions,
    Logger: silent,
    expressions: { resolveExpression: (expression: string) => evaluate(expression, variables) },
  } as unknown as ConstructorParameters<typeof Engine>[0]);
  const ended = new Promise<string>((resolve, reject) => {
    engine.once('end', () => resolve('completed'));
    engine.once('error', reject);
  });
  const listener = {
    emit(name: string, api: { type: string; signal(message?: unknown): void } | undefined): boolean {
      if (name === 'activity.wait' && api?.type === 'bpmn:UserTask') {
        Object.assign(variables, { approved: true });
        api.signal({ approved: true });
      }
      return true;
    },
  };
  await engine.execute({ listener, variables } as unknown as Parameters<typeof engine.execute>[0]);
  return ended;
}
