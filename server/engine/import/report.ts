import type { Problem } from '../../errors.ts';
import { isRunnable, type ParsedBpmn } from '../definitions.ts';

/**
 * The import report of one BPMN file, as the deployment response and `npm run import-report`
 * show it: its processes, which of them Baton executes, what it does not execute and why, the
 * parts kept only for display, and the problems that refuse the file.
 */

/** One process of a file (or the file's diagram when it holds no process). */
export interface ProcessReport {
  key: string;
  name: string;
  /** isExecutable="true" in the file */
  executable: boolean;
  /** Baton starts it; when false it is deployed for viewing and `notExecuted` says why */
  runs: boolean;
  notExecuted: string[];
}

export interface FileReport {
  file: string;
  /** stored and viewable; false when `problems` refuse the file */
  deployable: boolean;
  /** at least one process Baton starts */
  executable: boolean;
  processes: ProcessReport[];
  /** parts kept for display and ignored for execution */
  displayOnly: string[];
  /** why the file is refused (empty when deployable) */
  problems: Problem[];
  warnings: Problem[];
}

/** The report of a parsed file. */
export function fileReport(file: string, parsed: ParsedBpmn): FileReport {
  const deployable = !parsed.problems.length;
  const processes = deployable
    ? parsed.processes.map((process) => ({
        key: process.key,
        name: process.name,
        executable: process.executable,
        runs: isRunnable(process),
        notExecuted: process.notExecuted.map((reason) => reason.message),
      }))
    : [];
  return {
    file,
    deployable,
    executable: processes.some((process) => process.runs),
    processes,
    displayOnly: parsed.displayOnly,
    problems: parsed.problems,
    warnings: parsed.warnings,
  };
}

/**
 * The reason a refused file or non-executed process is counted under in totals: the rule name of
 * a constraint violation, or the message with element ids and quoted values taken out.
 */
export function reasonOf(message: string): string {
  const rule = /^(EXT\.\d+|REF)\b[^:]*/.exec(message);
  if (rule) return rule[1] ?? message;
  return message
    .replace(/^[^:]*\.bpmn: /, '')
    .replace(/<[^>]*>/g, '<…>')
    .replace(/".*"/g, '"…"')
    .replace(/\s+/g, ' ')
    .slice(0, 120);
}
