/**
 * Baton's views in the shapes of Camunda's REST DTOs (ProcessInstanceDto, TaskDto,
 * LockedExternalTaskDto, IncidentDto, HistoricProcessInstanceDto, HistoricActivityInstanceDto).
 * Fields Baton has no notion of (tenants, suspension, priorities, case management) carry
 * Camunda's neutral values: null, false, or the default priority.
 */
import type { LockedTask } from '../jobs/service.ts';
import type { ElementRun } from '../instances/elements.ts';
import type { InstanceSummary, InstanceView } from '../instances/service.ts';
import type { InstanceStatus, Job, TaskView } from '../store/types.ts';
import { camundaDate, toTypedMap } from './variables.ts';

/** Camunda's ProcessInstanceDto. */
export function instanceDto(view: Pick<InstanceView, 'id' | 'businessKey' | 'status'>, definitionId: string | null, origin: string) {
  return {
    links: [{ method: 'GET', href: `${origin}/engine-rest/process-instance/${view.id}`, rel: 'self' }],
    id: view.id,
    definitionId,
    businessKey: view.businessKey,
    caseInstanceId: null,
    ended: view.status !== 'running',
    suspended: false,
    tenantId: null,
  };
}

/** Camunda's TaskDto for an open user task. */
export function taskDto(task: TaskView, definitionId: string | null) {
  return {
    id: task.id,
    name: task.name,
    assignee: task.assignee,
    owner: null,
    created: camundaDate(task.createdAt),
    lastUpdated: null,
    due: null,
    followUp: null,
    delegationState: null,
    description: null,
    executionId: task.executionId,
    parentTaskId: null,
    priority: 50,
    processDefinitionId: definitionId,
    processInstanceId: task.instanceId,
    caseExecutionId: null,
    caseDefinitionId: null,
    caseInstanceId: null,
    taskDefinitionKey: task.elementId,
    suspended: false,
    formKey: null,
    camundaFormRef: null,
    tenantId: null,
  };
}

/** Camunda's LockedExternalTaskDto; `names` limits the variables to those a topic asked for. */
export function lockedTaskDto(task: LockedTask, definitionId: string | null, names?: string[]) {
  return {
    activityId: task.elementId,
    activityInstanceId: `${task.elementId}:${task.executionId}`,
    errorMessage: null,
    errorDetails: null,
    executionId: task.executionId,
    id: task.id,
    lockExpirationTime: camundaDate(task.lockExpiresAt),
    createTime: null,
    processDefinitionId: definitionId,
    processDefinitionKey: task.processKey,
    processDefinitionVersionTag: null,
    processInstanceId: task.instanceId,
    retries: task.retries,
    suspended: false,
    workerId: task.workerId,
    topicName: task.topicName,
    tenantId: null,
    variables: toTypedMap(task.variables, names),
    priority: 0,
    businessKey: task.businessKey,
    extensionProperties: {},
  };
}

/** Camunda's IncidentDto for an external task whose retries ran out (one incident per task, named by it). */
export function incidentDto(job: Job & { incident: NonNullable<Job['incident']> }, instanceId: string, definitionId: string | null) {
  return {
    id: job.id,
    processDefinitionId: definitionId,
    processInstanceId: instanceId,
    executionId: job.executionId,
    incidentTimestamp: camundaDate(job.incident.at),
    incidentType: 'failedExternalTask',
    activityId: job.elementId,
    failedActivityId: job.elementId,
    causeIncidentId: job.id,
    rootCauseIncidentId: job.id,
    configuration: job.id,
    tenantId: null,
    incidentMessage: job.incident.message,
    jobDefinitionId: null,
    annotation: null,
  };
}

const STATES: Record<InstanceStatus, string> = {
  running: 'ACTIVE',
  completed: 'COMPLETED',
  cancelled: 'EXTERNALLY_TERMINATED',
  failed: 'INTERNALLY_TERMINATED',
};

/** Camunda's historic state of an instance status. */
export function historicState(status: InstanceStatus): string {
  return STATES[status];
}

const duration = (start: string, end: string | null): number | null => (end ? Date.parse(end) - Date.parse(start) : null);

/** Camunda's HistoricProcessInstanceDto. */
export function historicInstanceDto(view: InstanceSummary, definitionId: string | null) {
  return {
    id: view.id,
    businessKey: view.businessKey,
    processDefinitionId: definitionId,
    processDefinitionKey: view.processKey,
    processDefinitionName: view.processName || null,
    processDefinitionVersion: view.processVersion,
    startTime: camundaDate(view.startedAt),
    endTime: camundaDate(view.endedAt),
    removalTime: null,
    durationInMillis: duration(view.startedAt, view.endedAt),
    startUserId: view.startedBy,
    startActivityId: null,
    deleteReason: view.status === 'cancelled' ? 'cancelled' : view.status === 'failed' ? view.error : null,
    rootProcessInstanceId: view.id,
    superProcessInstanceId: null,
    superCaseInstanceId: null,
    caseInstanceId: null,
    tenantId: null,
    state: historicState(view.status),
  };
}

/** Camunda's activity type for a BPMN element type: `bpmn:UserTask` → `userTask`, end events `noneEndEvent`. */
export function activityType(elementType: string): string {
  const local = elementType.replace(/^bpmn:/, '');
  if (local === 'EndEvent') return 'noneEndEvent';
  return local.charAt(0).toLowerCase() + local.slice(1);
}

/** Camunda's HistoricActivityInstanceDto for one element run. */
export function historicActivityDto(
  run: ElementRun,
  instance: Pick<InstanceView, 'id' | 'processKey'>,
  definitionId: string | null,
  task: { taskId: string | null; assignee: string | null },
) {
  return {
    id: `${run.id}:${run.executionId}`,
    parentActivityInstanceId: null,
    activityId: run.id,
    activityName: run.name,
    activityType: activityType(run.type),
    processDefinitionKey: instance.processKey,
    processDefinitionId: definitionId,
    processInstanceId: instance.id,
    executionId: run.executionId,
    taskId: task.taskId,
    calledProcessInstanceId: null,
    calledCaseInstanceId: null,
    assignee: task.assignee,
    startTime: camundaDate(run.startedAt),
    endTime: camundaDate(run.endedAt),
    durationInMillis: duration(run.startedAt, run.endedAt),
    canceled: run.status === 'cancelled' || run.status === 'failed',
    completeScope: run.status === 'completed' && run.type === 'bpmn:EndEvent',
    tenantId: null,
    removalTime: null,
    rootProcessInstanceId: instance.id,
  };
}
