import type { User } from '../auth/users.ts';
import { evaluateParameters } from '../engine/extensions.ts';
import type { RetryPolicy } from '../engine/retry.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import { assertWithinLimits } from '../forms/variable-limits.ts';
import type { DefinitionCache } from '../instances/definitions.ts';
import type { Executor } from '../instances/executor.ts';
import { retryPolicyOf } from '../jobs/service.ts';
import type { InstanceListing, Job, Page, Store } from '../store/types.ts';
import { may } from '../auth/permissions.ts';
import { failedStep, retryStep } from '../instances/step-incidents.ts';
import { retriedEvent } from '../instances/incidents.ts';

/** A job that ran out of retries (or raised an uncaught BPMN error) and waits for an operator. */
export interface IncidentView {
  /** the incident's id: the id of its job */
  id: string;
  jobId: string;
  instanceId: string;
  processKey: string;
  processVersion: number;
  businessKey: string | null;
  elementId: string;
  elementName: string;
  topic: string;
  message: string;
  createdAt: string;
  /** attempts made so far */
  attempts: number;
  /** set for Baton's own notifications (a task e-mail, an incident SMS) */
  notification: 'task' | 'incident' | null;
}

export interface IncidentQuery {
  processKey?: string;
  elementId?: string;
  instanceId?: string;
  offset: number;
  limit: number;
}

export interface IncidentService {
  /** Open incidents, oldest first (admins and operators). */
  list(query: IncidentQuery, user: User): Promise<Page<IncidentView>>;
  /**
   * Offers the job again with fresh retries (admins and operators). Variables given are set
   * first, and the task's input parameters are evaluated again with them.
   */
  retry(id: string, input: { variables?: unknown }, user: User): Promise<void>;
}

/** The incidents of a record, as the API shows them. */
export function incidentsOf(record: InstanceListing): IncidentView[] {
  return record.jobs.filter((job): job is Job & { incident: NonNullable<Job['incident']> } => job.incident !== null).map((job) => ({
    id: job.id,
    jobId: job.id,
    instanceId: record.id,
    processKey: record.processKey,
    processVersion: record.processVersion,
    businessKey: record.businessKey,
    elementId: job.elementId,
    elementName: job.elementName,
    topic: job.topic,
    message: job.incident.message,
    createdAt: job.incident.at,
    attempts: (job.attempt ?? 1) - 1,
    notification: job.notification?.reason ?? null,
  }));
}

const SCAN_PAGE = 200;

export function createIncidentService(deps: { store: Store; executor: Executor; definitions: DefinitionCache; retryPolicy: RetryPolicy }): IncidentService {
  const { store, executor, definitions, retryPolicy } = deps;
  const operator = (user: User): void => {
    if (!may(user, 'operate')) throw new ForbiddenError('only admins and operators work on incidents');
  };

  return {
    async list(query, user) {
      operator(user);
      let found: IncidentView[] = [];
      if (query.instanceId) {
        const record = await store.getInstance(query.instanceId);
        if (record?.status === 'running') found = incidentsOf(record);
      } else {
        // Incidents live in the instance records: scan the running instances (of one process).
        for (let offset = 0; ; offset += SCAN_PAGE) {
          const page = await store.findInstances({ status: 'running', ...(query.processKey ? { processKey: query.processKey } : {}), offset, limit: SCAN_PAGE });
          found.push(...page.items.flatMap(incidentsOf));
          if (page.items.length < SCAN_PAGE) break;
        }
      }
      const matching = found
        .filter((incident) => (!query.processKey || incident.processKey === query.processKey) && (!query.elementId || incident.elementId === query.elementId))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      return { items: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
    },

    async retry(id, input, user) {
      operator(user);
      const values = validateForm([], input.variables, executor.limits);
      const record = await store.findInstanceByJob(id);
      if (!record) throw new NotFoundError('incident', id);
      const { model } = await definitions.compiled(record.processKey, record.processVersion);
      return executor.transition(record.id, (fresh) => {
        const job = fresh.jobs.find((j) => j.id === id);
        if (fresh.status !== 'running' || !job?.incident) throw new ConflictError(`incident <${id}> is not open`);
        const step = failedStep(job);
        if (step) return retryStep(fresh, job, step, values, user);
        assertWithinLimits({ ...fresh.variables, ...values }, executor.limits);
        const retries = retryPolicyOf(model, job, retryPolicy).retries;
        const inputs = job.notification ? undefined : model.inputs.get(job.elementId);
        let input = job.input;
        if (inputs) {
          try {
            input = evaluateParameters(inputs, { ...fresh.variables, ...values });
          } catch (err) {
            throw new ValidationError(`the input parameters of <${job.elementId}> fail with these variables: ${(err as Error).message}`);
          }
        }
        return {
          events: [retriedEvent(job, user, { retries }, values)],
          change: (saved, now) => {
            Object.assign(saved.variables, values);
            job.incident = null;
            job.retries = retries;
            if (input) job.input = input;
            job.availableAt = now.toISOString();
            job.lockedBy = null;
            job.lockExpiresAt = null;
          },
          result: () => undefined,
        };
      });
    },
  };
}
