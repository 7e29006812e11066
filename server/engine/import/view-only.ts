import type { Problem } from '../../errors.ts';
import { parseBpmn, type ParsedBpmn } from '../definitions.ts';
import type { ProcessModel } from '../model.ts';
import type { ScriptLanguages } from '../scripts.ts';

/**
 * A view-only deployment stores every process of a file for viewing, even one that breaks a rule
 * of the specification or is configured wrongly: the processes are never compiled nor started,
 * like processes without isExecutable="true", so what they contain (expressions, scripts) is never
 * evaluated. What still refuses the file is what protects the server while reading it: a DOCTYPE
 * or entity declarations, XML that does not parse, a root that is not bpmn:definitions (and, in
 * the routes, the size and shape limits). Such a file yields no process.
 */

/** The first reason of every process of a view-only deployment. */
const note = (key: string): Problem => ({ path: key, message: `process <${key}> was deployed with view-only: deployed for viewing` });

/**
 * A parsed file as a view-only deployment takes it: its problems become the reasons its processes
 * are not executed (each process gets the problems of its own elements and those of no process).
 * A file that could not be read keeps its problems and is refused.
 */
export function forViewing(parsed: ParsedBpmn): ParsedBpmn {
  if (!parsed.processes.length) return parsed;
  const owner = (problem: Problem): ProcessModel | undefined =>
    parsed.processes.find((process) => problem.path !== undefined && (problem.path === process.key || process.elements.has(problem.path)));
  const processes = parsed.processes.map((process) => {
    const reasons = [note(process.key), ...process.notExecuted];
    for (const problem of parsed.problems) {
      const of = owner(problem);
      if ((!of || of === process) && !reasons.some((reason) => reason.message === problem.message)) reasons.push(problem);
    }
    return { ...process, notExecuted: reasons };
  });
  return { ...parsed, processes, problems: [] };
}

/** A file read as a deployment reads it: as is, or for viewing. */
export async function readForDeployment(xml: string, scripts: ScriptLanguages, viewOnly: boolean): Promise<ParsedBpmn> {
  const parsed = await parseBpmn(xml, scripts);
  return viewOnly ? forViewing(parsed) : parsed;
}

/** Why a stored view-only version is not executed: its file read again for viewing. */
export async function viewOnlyReasons(xml: string, key: string, scripts: ScriptLanguages): Promise<Problem[]> {
  const parsed = await readForDeployment(xml, scripts, true);
  return parsed.processes.find((process) => process.key === key)?.notExecuted ?? [note(key)];
}
