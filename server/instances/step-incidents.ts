import { randomUUID } from 'node:crypto';
import { isExpressionFailure } from '../engine/expression-limits.ts';
import type { ProcessModel } from '../engine/model.ts';
import type { Action } from '../engine/runner.ts';
import { newJob } from '../jobs/new-job.ts';
import type { InstanceRecord, Job, Variables } from '../store/types.ts';
import type { NewEvent } from './executor.ts';

/**
 * A step of an instance that cannot be taken — an expression in it failed or passed a bound — is
 * not half-taken and does not fail the instance: the instance stays as it was saved before the
 * step, with an incident holding the reason and the step. The incident is a job that no worker is
 * offered; while it is open the instance's timers stay still (so a timer whose step fails fires
 * once, not on every tick and after every restart), and retrying it takes the step again.
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
  return [{ type: 'incident.created', elementId, elementName, executionId: job.executionId, data: { jobId: job.id, message, step: action.type } }];
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
    events: [
      {
        type: 'incident.retried',
        elementId: job.elementId,
        elementName: job.elementName,
        executionId: job.executionId,
        user: user.name,
        data: { jobId: job.id, step: step.type, ...(Object.keys(values).length ? { variables: values } : {}) },
      },
    ] as NewEvent[],
    change: (saved: InstanceRecord) => {
      Object.assign(saved.variables, values);
      saved.jobs = saved.jobs.filter((j) => j.id !== job.id);
      saved.nextTimerAt = nextTimerOf(saved);
    },
    result: () => undefined,
  };
}
