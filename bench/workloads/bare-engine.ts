/**
 * The foundation alone: the salary process on bare bpmn-engine, in memory, in this process. One
 * parsed definition (bpmn-engine's serialized context) is reused by every instance; the service
 * tasks answer at once and the approval is signalled as soon as it waits. This is the limit
 * Baton's own figures are compared with (W2, and W4's timers).
 */
import { Engine } from 'bpmn-engine';
import { compileProcess } from '../../server/engine/definitions.ts';
import { evaluate } from '../../server/engine/expressions.ts';
import type { Variables } from '../../server/store/types.ts';

type Callback = (err: Error | null, output?: unknown) => void;
type EngineApi = { id: string; type: string; signal(message?: unknown): void };
type EngineState = Awaited<ReturnType<Engine['getState']>>;

/** the same quiet logger Baton gives its engines: `debug` costs a tty check per element per run */
const silent = () => ({ debug() {}, error() {}, warn() {} });

const ANSWERS: Record<string, Variables> = {
  'accounting.salary-base': { salaryBase: 5000 },
  'bonus.calculate': { bonus: 500 },
  'accounting.payroll': { payrollId: 'P-1' },
};

/**
 * A bare engine of the salary process. Service tasks answer at once; a send task calls `onSend`
 * and waits (as a job for a worker would).
 */
async function salaryEngine(xml: string, variables: Variables, onSend: () => void = () => undefined): Promise<Engine> {
  const { model, sourceContext } = await compileProcess(xml, 'salary');
  const extensions = {
    answers(activity: { id: string; type: string; behaviour: Record<string, unknown> }) {
      const topic = model.topics.get(activity.id);
      if (!topic) return;
      activity.behaviour.Service = function InstantService() {
        return {
          execute(_message: unknown, callback: Callback) {
            if (activity.type === 'bpmn:SendTask') return onSend();
            Object.assign(variables, ANSWERS[topic] ?? {});
            callback(null, ANSWERS[topic] ?? {});
          },
        };
      };
    },
  };
  return new Engine({
    name: 'salary',
    sourceContext,
    extensions,
    Logger: silent,
    expressions: { resolveExpression: (expression: string) => evaluate(expression, variables) },
  } as unknown as ConstructorParameters<typeof Engine>[0]);
}

/** Runs one salary instance to its end on a fresh engine; resolves with its end state. */
export async function runBareSalary(xml: string, employeeId: string): Promise<string> {
  const variables: Variables = { employeeId };
  const engine = await salaryEngine(xml, variables);
  const ended = new Promise<string>((resolve, reject) => {
    engine.once('end', () => resolve('completed'));
    engine.once('error', reject);
  });
  const listener = {
    emit(name: string, api: EngineApi | undefined): boolean {
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

/**
 * The saved state of a salary instance waiting at "Approve bonus", whose "2 days passed" timer
 * fell due an hour ago (its dates moved back, as if no server had run for two days).
 */
export async function bareWaitingState(xml: string): Promise<{ state: string; variables: Variables }> {
  const variables: Variables = { employeeId: 'E-1' };
  const engine = await salaryEngine(xml, variables);
  const waiting = new Promise<void>((resolve) => {
    const listener = { emit: (name: string, api?: EngineApi) => (name === 'activity.wait' && api?.type === 'bpmn:UserTask' && resolve(), true) };
    void engine.execute({ listener, variables } as unknown as Parameters<typeof engine.execute>[0]);
  });
  await waiting;
  const state = JSON.stringify(await engine.getState());
  await engine.stop();
  const twoDaysAgo = Date.now() - 49 * 3600_000;
  const moved = (key: string, ms: number) => (text: string) => text.replace(new RegExp(`"${key}":"[^"]+"`, 'g'), `"${key}":"${new Date(ms).toISOString()}"`);
  return { state: moved('expireAt', twoDaysAgo + 48 * 3600_000)(moved('startedAt', twoDaysAgo)(state)), variables };
}

/**
 * Fires the due reminder of one waiting instance on bare bpmn-engine: recover the saved state,
 * resume (the timer fires at once), run until "Remind managers" waits, and serialize the new
 * state. What Baton does per due timer, without its store, jobs and history.
 */
export async function fireBareReminder(xml: string, waiting: { state: string; variables: Variables }): Promise<number> {
  let sent = (): void => undefined;
  const reminded = new Promise<void>((resolve) => (sent = resolve));
  const engine = await salaryEngine(xml, { ...waiting.variables }, () => sent());
  engine.recover(JSON.parse(waiting.state) as EngineState);
  await engine.resume({ listener: { emit: () => true } } as unknown as Parameters<typeof engine.resume>[0]);
  await reminded;
  return JSON.stringify(await engine.getState()).length;
}
