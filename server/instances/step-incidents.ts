import { randomUUID } from 'node:crypto';
import { isExpressionFailure } from '../engine/expression-limits.ts';
import type { ProcessModel } from '../engine/model.ts';
import type { Action } from '../engine/runner.ts';
import { newJob } from '../jobs/new-job.ts';
import type { InstanceRecord, Job, Variables } from '../store/types.ts';
import type { NewEvent } from './executor.ts';
import { retriedEvent } from './incidents.ts';

/**
 * A step of an instance that cannot be taken — an expression in it failed or passed a bound — is
 * not half-taken and does not fail the instance: the instance stays as it was saved before the
 * step, with an incident holding the reason and the step. The incident is a job that no worker is
 * offered; while it is open the instance's timers stay still (so a timer whose step fails fires
 * once, not on every tick and after every restart), and retrying it takes the step again.
 *
 * What the step acted on is held by the incident: the user task that was completed, the external
 * task whose result came in, the message subscription a message reached. They leave the task list,
 * the jobs workers are offered and the subscriptions (the person or system did their part, and
 * history says so), so nobody does the same work twice; retrying the incident carries it on.
 */

/** Whether an error thrown while taking a step is the step's own failure (not the server's). */
export const isStepFailure = isExpressionFailure;

/** The step a step incident holds (its job's `step`), or undefined for any other job. */
export function failedStep(job: Job): Action | undefined {
  return job.step as Action | undefined;
}

/** Whether the record has an open step incident: then no timer of it fires. */
export function hasStepIncident(record: InstanceRecord): boolean {
  return record.jobs.some((job) => job.step && job.incident);
}

/**
 * Adds an incident for a step that failed to a record as saved before the step, and stops its
 * timers until the incident is retried. Returns the history events. Call it inside a transition.
 */
export function raiseStepIncident(input: { record: InstanceRecord; action: Action; elementId: string | null; message: string; now: Date; model: ProcessModel }): NewEvent[] {
  const { record, action, message, now, model } = input;
  const at = now.toISOString();
  const elementId = input.elementId ?? model.key;
  const elementName = model.elements.get(elementId)?.name ?? elementId;
  const job: Job = {
    ...newJob({ elementId, executionId: `step-${randomUUID()}`, elementName, topic: '' }, at),
    incident: { message, at },
    step: action as unknown as Variables,
  };
  record.jobs.push(job);
  record.nextTimerAt = null;
  removeHeld(record, model);
  return [{ type: 'incident.created', elementId, elementName, executionId: job.executionId, data: { jobId: job.id, message, step: action.type } }];
}

/** The executions and message names that open step incidents hold (see the module comment). */
export function heldWork(record: InstanceRecord, model: ProcessModel): { executions: Set<string>; messages: Set<string> } {
  const executions = new Set<string>();
  const messages = new Set<string>();
  for (const job of record.jobs) {
    const step = job.incident ? failedStep(job) : undefined;
    if (!step) continue;
    if ('executionId' in step) executions.add(step.executionId);
    if (step.type === 'message') messages.add(model.messages.get(step.messageId) ?? step.messageId);
  }
  return { executions, messages };
}

/** Takes the work that open step incidents hold out of a record's tasks, jobs and message subscriptions. */
function removeHeld(record: InstanceRecord, model: ProcessModel): void {
  const held = heldWork(record, model);
  record.userTasks = record.userTasks.filter((task) => !held.executions.has(task.executionId));
  record.jobs = record.jobs.filter((job) => job.step || !held.executions.has(job.executionId));
  record.messages = record.messages.filter((subscription) => !held.messages.has(subscription.name));
}

/** The earliest due date of a record's timers, or null while a step incident holds them. */
export function nextTimerOf(record: InstanceRecord): string | null {
  return hasStepIncident(record) ? null : (record.timers.map((timer) => timer.dueAt).sort()[0] ?? null);
}

/**
 * The transition step that retries a step incident: the variables given are set, the incident
 * closes, the timers move again and the failed step is taken once more (failing again raises a
 * new incident with the new reason).
 */
export function retryStep(record: InstanceRecord, job: Job, step: Action, values: Variables, user: { name: string }) {
  const merged = 'variables' in step ? { ...step, variables: { ...step.variables, ...values } } : step;
  return {
    action: merged as Action,
    events: [retriedEvent(job, user, { step: step.type }, values)],
    change: (saved: InstanceRecord) => {
      Object.assign(saved.variables, values);
      saved.jobs = saved.jobs.filter((j) => j.id !== job.id);
      saved.nextTimerAt = nextTimerOf(saved);
    },
    result: () => undefined,
  };
}
