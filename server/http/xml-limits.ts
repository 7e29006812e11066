import { ValidationError, type Problem } from '../errors.ts';

/**
 * Limits on the shape of uploaded XML, checked by one linear scan before any parser sees it:
 * deeper nesting makes the BPMN parser and the engine recurse until the stack overflows, and
 * a flood of elements costs memory out of proportion to the upload.
 */
export const XML_LIMITS = { depth: 100, elements: 50_000 };

/** What is wrong with the shape of one XML text, or null. */
export function xmlShapeProblem(xml: string): string | null {
  let depth = 0;
  let elements = 0;
  for (let at = xml.indexOf('<'); at >= 0; at = xml.indexOf('<', at + 1)) {
    const next = xml[at + 1];
    if (next === '?' || next === '!') {
      const end = xml.startsWith('<!--', at) ? xml.indexOf('-->', at) : xml.startsWith('<![CDATA[', at) ? xml.indexOf(']]>', at) : xml.indexOf('>', at);
      if (end < 0) return null; // the parser reports the broken text
      at = end;
      continue;
    }
    if (next === '/') {
      depth--;
      continue;
    }
    let end = at + 1;
    let quote = '';
    for (; end < xml.length; end++) {
      const char = xml[end];
      if (quote) {
        if (char === quote) quote = '';
      } else if (char === '"' || char === "'") quote = char;
      else if (char === '>') break;
    }
    if (xml[end - 1] !== '/') depth++;
    if (++elements > XML_LIMITS.elements) return `more than ${XML_LIMITS.elements} XML elements`;
    if (depth > XML_LIMITS.depth) return `XML elements nested deeper than ${XML_LIMITS.depth} levels`;
    at = end;
  }
  return null;
}

const CYCLE = /<(?:[\w-]+:)?timeCycle\b[^>]*>([^<]*)<\//g;
const DURATION = /P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?/;
const SECONDS = [365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1];
/** The shortest repeat interval a timer cycle may have. */
export const MIN_CYCLE_SECONDS = 1;

/**
 * Timer cycles that repeat faster than once a second (`R/PT0S`): such a timer fires again as soon
 * as it has fired, and the instance never rests. Cycles given by an expression are checked when
 * they run; cron cycles have a one-second resolution anyway.
 */
export function timerCycleProblems(xml: string): string[] {
  const problems: string[] = [];
  for (const [, raw = ''] of xml.matchAll(CYCLE)) {
    const text = raw.trim();
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
    const problem = xmlShapeProblem(file.xml);
    if (problem) problems.push({ path: file.name, message: `${file.name}: ${problem}; nothing was deployed` });
    else for (const cycle of timerCycleProblems(file.xml)) problems.push({ path: file.name, message: `${file.name}: ${cycle}; nothing was deployed` });
  }
  if (problems.length) throw new ValidationError(problems.map((p) => p.message).join('; '), problems);
}
