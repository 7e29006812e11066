import { randomUUID } from 'node:crypto';
import type { ConnectorName } from '../config.ts';
import { evaluate } from '../engine/expressions.ts';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import type { ProcessModel } from '../engine/model.ts';
import type { InstanceRecord, Job, UserTask, Variables } from '../store/types.ts';
import type { Directory } from './directory.ts';
import { newJob } from '../jobs/new-job.ts';

/**
 * Baton's own notifications, made as jobs on the instance record in the same save as what they
 * announce (a new user task, an incident). A crash after that save still sends them: the
 * built-in connectors work them like any job (at least once).
 */
export interface Notifier {
  /** the e-mail job announcing a new user task to its assignee or candidates; null when nobody has an address */
  userTask(record: InstanceRecord, task: UserTask, now: Date): Job | null;
  /** the jobs telling the administrator about an incident, as the model's `baton.incident.*` properties ask */
  incident(record: InstanceRecord, job: Job, message: string, model: ProcessModel, now: Date): Job[];
}

export interface NotifierDeps {
  directory: Directory;
  /** the connectors running here: a notification is made only for a channel that is sent */
  enabled: readonly ConnectorName[];
  /** base URL of the web app, for links */
  publicUrl: string;
}

/** Makes a job that is not an engine task. */
export function notificationJob(fields: {
  elementId: string;
  elementName: string;
  topic: string;
  input: Variables;
  notification: NonNullable<Job['notification']>;
  now: Date;
}): Job {
  const id = randomUUID();
  return newJob(
    {
      id,
      elementId: fields.elementId,
      executionId: `notification:${id}`,
      elementName: fields.elementName,
      topic: fields.topic,
      input: fields.input,
      notification: fields.notification,
    },
    fields.now.toISOString(),
  );
}

const describe = (record: InstanceRecord): string =>
  `${record.processName}${record.businessKey ? ` (business key ${record.businessKey})` : ''}`;

export function createNotifier({ directory, enabled, publicUrl }: NotifierDeps): Notifier {
  const template = (text: string, record: InstanceRecord, context: Variables, fallback: string): string => {
    try {
      const value = evaluate(text, { ...record.variables, ...context });
      return value === null || value === undefined ? fallback : typeof value === 'string' ? value : JSON.stringify(value);
    } catch (err) {
      return `${fallback} (the notice template failed: ${(err as Error).message})`;
    }
  };

  return {
    userTask(record, task, now) {
      if (!enabled.includes('email')) return null;
      const to = task.assignee
        ? directory.emails({ users: [task.assignee] })
        : directory.emails({ users: task.candidateUsers, groups: task.candidateGroups });
      if (!to.length) return null;
      const link = `${publicUrl}/tasks/${task.id}`;
      const who = task.assignee ? `assigned to ${task.assignee}` : `offered to ${[...task.candidateUsers, ...task.candidateGroups.map((g) => `group ${g}`)].join(', ')}`;
      const text = [
        'Hello,',
        '',
        `a task waits in Baton: ${task.name}`,
        '',
        `  Process:  ${describe(record)}`,
        `  Instance: ${record.id}`,
        `  Task:     ${task.name} (${who})`,
        '',
        `Open it: ${link}`,
        '',
      ].join('\n');
      return notificationJob({
        elementId: task.elementId,
        elementName: task.name,
        topic: CONNECTOR_TOPICS.email,
        input: { to, subject: `New task: ${task.name} — ${describe(record)}`, text, link },
        notification: { reason: 'task', taskId: task.id },
        now,
      });
    },

    incident(record, job, message, model, now) {
      const notice = { ...model.incidentNotices.get(model.key), ...model.incidentNotices.get(job.elementId) };
      const context = { incident: { jobId: job.id, elementId: job.elementId, elementName: job.elementName, message, instanceId: record.id } };
      const fallback = `Incident in ${describe(record)} at ${job.elementName}: ${message}`;
      const jobs: Job[] = [];
      const make = (topic: string, input: Variables): void => {
        jobs.push(notificationJob({ elementId: job.elementId, elementName: job.elementName, topic, input, notification: { reason: 'incident', jobId: job.id }, now }));
      };
      if (notice.sms !== undefined && enabled.includes('sms')) make(CONNECTOR_TOPICS.sms, { body: template(notice.sms, record, context, fallback) });
      if (notice.email !== undefined && enabled.includes('email')) {
        const text = `${template(notice.email, record, context, fallback)}\n\nInstance: ${publicUrl}/instances/${record.id}\n`;
        make(CONNECTOR_TOPICS.email, { subject: `Incident: ${job.elementName} — ${describe(record)}`, text });
      }
      return jobs;
    },
  };
}
