import type { ModdleElement } from 'bpmn-moddle';
import type { Problem } from '../../errors.ts';
import { checkExpression, isExpression } from '../expressions.ts';
import { children, extensions, type IoParameter } from '../extensions.ts';
import type { RetryPolicy } from '../retry.ts';

/**
 * Camunda 8 (Zeebe) extensions mapped onto the concepts Baton already runs: a job type is a
 * topic, an assignment definition gives a user task's assignee and candidates, an I/O mapping
 * gives input and output parameters (`source` → `target`), `retries` gives the attempts.
 */

/** What a zeebe:taskDefinition and zeebe:ioMapping say about a service-like task. */
export interface ZeebeTask {
  topic: string;
  inputs: IoParameter[];
  outputs: IoParameter[];
  retry: RetryPolicy | null;
}

/**
 * True when Baton can evaluate a Zeebe value: plain text, or a FEEL expression (`=...`) once the
 * expression evaluator knows FEEL; until then the element is not executed rather than run with
 * the expression taken as text.
 */
export function readableByBaton(id: string, where: string, text: string, notExecuted: Problem[]): boolean {
  if (!text.startsWith('=') || isExpression(text)) return true;
  notExecuted.push({ path: id, message: `<${id}>: ${where} is a FEEL expression, which Baton does not evaluate yet` });
  return false;
}

/** Checks an expression of a mapping and returns the parameter; problems name the element. */
function parameter(id: string, kind: string, mapping: ModdleElement, problems: Problem[], notExecuted: Problem[]): IoParameter {
  const name = String(mapping.target ?? '').trim();
  const text = String(mapping.source ?? '').trim();
  if (!name) problems.push({ path: id, message: `<${id}>: a zeebe:${kind} has no target` });
  readableByBaton(id, `zeebe:${kind} "${name}"`, text, notExecuted);
  try {
    checkExpression(text);
  } catch (err) {
    problems.push({ path: id, message: `<${id}>: zeebe:${kind} "${name}": ${(err as Error).message}` });
  }
  return { name, value: { text } };
}

/** Reads zeebe:ioMapping of an element. */
export function readZeebeIo(id: string, element: ModdleElement, problems: Problem[], notExecuted: Problem[]): { inputs: IoParameter[]; outputs: IoParameter[] } {
  const io = extensions(element, 'zeebe:IoMapping')[0];
  return {
    inputs: children(io, 'inputParameters').map((mapping) => parameter(id, 'input', mapping, problems, notExecuted)),
    outputs: children(io, 'outputParameters').map((mapping) => parameter(id, 'output', mapping, problems, notExecuted)),
  };
}

/** The job of a task with zeebe:taskDefinition, or null when it has none. */
export function readZeebeTask(id: string, element: ModdleElement, problems: Problem[], notExecuted: Problem[]): ZeebeTask | null {
  const definition = extensions(element, 'zeebe:TaskDefinition')[0];
  const topic = typeof definition?.type === 'string' ? definition.type.trim() : '';
  if (!topic) return null;
  if (topic.startsWith('=')) {
    notExecuted.push({ path: id, message: `<${id}>: a job type computed by an expression ("${topic}") is not supported; write the type itself` });
    return null;
  }
  let retry: RetryPolicy | null = null;
  if (definition?.retries !== undefined) {
    const retries = Number(definition.retries);
    if (Number.isInteger(retries) && retries >= 1 && retries <= 100) retry = { retries, intervalsMs: [0] };
    else problems.push({ path: id, message: `<${id}>: zeebe:taskDefinition retries "${String(definition.retries)}" must be a whole number from 1 to 100` });
  }
  return { topic, ...readZeebeIo(id, element, problems, notExecuted), retry };
}

const names = (value: unknown): string[] =>
  typeof value === 'string' ? value.replace(/^\s*=?\s*\[|\]\s*$/g, '').split(',').map((part) => part.trim().replace(/^"|"$/g, '')).filter(Boolean) : [];

/** A user task's zeebe:assignmentDefinition, or null when it has none. */
export function readZeebeAssignment(
  id: string,
  element: ModdleElement,
  notExecuted: Problem[],
): { assignee: string | null; candidateUsers: string[]; candidateGroups: string[] } | null {
  const assignment = extensions(element, 'zeebe:AssignmentDefinition')[0];
  if (!assignment) return null;
  for (const property of ['assignee', 'candidateUsers', 'candidateGroups']) {
    const value = assignment[property];
    if (typeof value === 'string' && !readableByBaton(id, `zeebe:assignmentDefinition ${property}`, value.trim(), notExecuted)) return null;
  }
  const assignee = typeof assignment.assignee === 'string' && assignment.assignee.trim() ? assignment.assignee.trim() : null;
  return { assignee, candidateUsers: names(assignment.candidateUsers), candidateGroups: names(assignment.candidateGroups) };
}
