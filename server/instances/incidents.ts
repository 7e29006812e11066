import type { ProcessModel } from '../engine/model.ts';
import type { Notifier } from '../notifications/notifier.ts';
import type { InstanceRecord, Job, Variables } from '../store/types.ts';
import type { NewEvent } from './executor.ts';

/**
 * Turns a job into an incident: it is offered to no worker until an operator retries it (or
 * cancels the instance). Adds the administrator notices the model asks for to the same record,
 * so they are saved with the incident. Returns the history events. Call it inside a transition.
 */
export function raiseIncident(input: {
  record: InstanceRecord;
  job: Job;
  message: string;
  now: Date;
  model: ProcessModel;
  notifier?: Notifier | undefined;
}): NewEvent[] {
  const { record, job, message, now, model, notifier } = input;
  job.incident = { message, at: now.toISOString() };
  job.lockedBy = null;
  job.lockExpiresAt = null;
  const events: NewEvent[] = [
    { type: 'incident.created', elementId: job.elementId, elementName: job.elementName, executionId: job.executionId, data: { jobId: job.id, message } },
  ];
  // a failed notification raises no further notification: no loops of SMS about SMS
  if (job.notification || !notifier) return events;
  for (const notice of notifier.incident(record, job, message, model, now)) {
    record.jobs.push(notice);
    events.push(createdEvent(notice));
  }
  return events;
}

/** The history event of a new job. */
export function createdEvent(job: Job): NewEvent {
  return {
    type: 'job.created',
    elementId: job.elementId,
    elementName: job.elementName,
    executionId: job.executionId,
    data: { jobId: job.id, topic: job.topic, ...(job.notification ? { notification: job.notification.reason } : {}) },
  };
}

/** The history event of an incident an operator retried, with the variables they set. */
export function retriedEvent(job: Job, user: { name: string }, data: Record<string, unknown>, variables: Variables): NewEvent {
  return {
    type: 'incident.retried',
    elementId: job.elementId,
    elementName: job.elementName,
    executionId: job.executionId,
    user: user.name,
    data: { jobId: job.id, ...data, ...(Object.keys(variables).length ? { variables } : {}) } as Variables,
  };
}
