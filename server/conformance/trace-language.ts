import { setTimeout as sleep } from 'node:timers/promises';
import { ScriptBpmnError, type ScriptLanguage, type ScriptOutcome } from '../engine/scripts.ts';

/**
 * betsy's script tokens as a script language: each script task of a betsy test holds one token,
 * and the harness maps it to trace logging and variable updates exactly as betsy's per-engine
 * adapters map it to Groovy or Java (see test/corpora/betsy/SOURCE.md). Nothing else runs.
 */

/** The scriptFormat the harness gives betsy's script tasks. */
export const TRACE_FORMAT = 'x-betsy-trace';

/** How long WAIT_TEN_SECONDS and CREATE_TIMESTAMP_LOG_* take. */
export const TEN_SECONDS = 10_000;

/** What the scripts of one test case logged. */
export interface TraceLog {
  lines: string[];
  marker: boolean;
  /** start and end (epoch ms) of CREATE_TIMESTAMP_LOG_1 and _2 */
  stamps: Map<string, { start: number; end: number }>;
}

export function newTraceLog(): TraceLog {
  return { lines: [], marker: false, stamps: new Map() };
}

/** The trace language of one test case: its scripts log into `log`; `clock` is Baton's time. */
export function traceLanguage(log: TraceLog, clock: () => Date): ScriptLanguage {
  return {
    format: TRACE_FORMAT,
    run(script, { variables }): ScriptOutcome | Promise<ScriptOutcome> {
      const token = script.trim();
      const integer = Number(variables.integerVariable ?? 0);
      switch (token) {
        case 'CREATE_LOG_FILE':
          return {};
        case 'CREATE_MARKER_FILE':
          log.marker = true;
          return {};
        case 'INCREMENT_INTEGER_VARIABLE':
          return { variables: { integerVariable: integer + 1 } };
        case 'INCREMENT_INTEGER_VARIABLE_AND_LOG':
          log.lines.push('INCREMENT_correct');
          return { variables: { integerVariable: integer + 1 } };
        case 'SET_STRING_DATA':
          return { variables: { data: 'String' } };
        case 'LOG_DATA':
          if (variables.data === 'String') log.lines.push('DATA_correct');
          return {};
        case 'THROW_ERROR':
          throw new ScriptBpmnError('ERR_CODE');
        case 'WAIT_TEN_SECONDS':
          return sleep(TEN_SECONDS).then(() => ({}));
        case 'CREATE_TIMESTAMP_LOG_1':
        case 'CREATE_TIMESTAMP_LOG_2': {
          const start = clock().getTime();
          return sleep(TEN_SECONDS).then(() => {
            log.stamps.set(token, { start, end: clock().getTime() });
            return {};
          });
        }
        default:
          // SCRIPT_task1 .. SCRIPT_task5, and any other text: betsy logs the token itself
          log.lines.push(token);
          return {};
      }
    },
  };
}

/** The lines the harness adds once a case settled: the marker, and whether the two stamps overlapped. */
export function settledLines(log: TraceLog): string[] {
  const lines: string[] = [];
  if (log.marker) lines.push('MARKER_exists');
  const one = log.stamps.get('CREATE_TIMESTAMP_LOG_1');
  const two = log.stamps.get('CREATE_TIMESTAMP_LOG_2');
  if (one && two && one.start < two.end && two.start < one.end) lines.push('EXECUTION_parallel');
  return lines;
}
