import { ValidationError, type Problem } from '../errors.ts';
import { readXmlShape } from '../engine/import/xml-shape.ts';

/**
 * Limits on the shape of uploaded XML, checked by one read with the parser's own tokenizer before
 * the parser builds anything: deeper nesting makes the BPMN parser and the engine recurse until the
 * stack overflows, and a flood of elements costs time and memory out of proportion to the upload
 * (reading a file takes about 0.1 ms per element; the largest reference file of the BPMN MIWG
 * has 2,430 elements).
 */
export const XML_LIMITS = { depth: 100, elements: 10_000 };

const DURATION = /P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?/;
const SECONDS = [365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1];
/** The shortest repeat interval a timer cycle may have. */
export const MIN_CYCLE_SECONDS = 1;

/**
 * Timer cycles that repeat faster than once a second (`R/PT0S`): such a timer fires again as soon
 * as it has fired, and the instance never rests. Cycles given by an expression are checked when
 * they run; cron cycles have a one-second resolution anyway.
 */
export function timerCycleProblems(cycles: string[]): string[] {
  const problems: string[] = [];
  for (const text of cycles) {
    if (!/^R\d*\//.test(text)) continue;
    const match = DURATION.exec(text.split('/').find((part) => part.startsWith('P')) ?? '');
    if (!match) continue;
    const seconds = match.slice(1).reduce((sum, value, i) => sum + (value ? Number(value.replace(',', '.')) * (SECONDS[i] as number) : 0), 0);
    if (seconds < MIN_CYCLE_SECONDS) problems.push(`the timer cycle ${text} repeats more often than once every ${MIN_CYCLE_SECONDS} s`);
  }
  return problems;
}

/** Throws a ValidationError naming each uploaded file whose XML is too deep or too large, or has a timer cycle that never rests. */
export function checkXmlShape(files: { name: string; xml: string }[]): void {
  const problems: Problem[] = [];
  for (const file of files) {
    const { problem, cycles } = readXmlShape(file.xml, XML_LIMITS);
    if (problem) problems.push({ path: file.name, message: `${file.name}: ${problem}; nothing was deployed` });
    else for (const cycle of timerCycleProblems(cycles)) problems.push({ path: file.name, message: `${file.name}: ${cycle}; nothing was deployed` });
  }
  if (problems.length) throw new ValidationError(problems.map((p) => p.message).join('; '), problems);
}
