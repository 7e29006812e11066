import type { Variables } from '../store/types.ts';
import type { Problem } from '../errors.ts';

/**
 * Script tasks. Uploaded files never run code of their own choosing: a script task runs only
 * when its `scriptFormat` names a language the operator enabled (`BATON_SCRIPT_FORMATS`, none by
 * default), and a language is an interpreter Baton or its embedder provides — never JavaScript.
 */

/** What a script task's script sees. */
export interface ScriptContext {
  instanceId: string;
  elementId: string;
  /** the task's camunda:resultVariable, if any */
  resultVariable?: string;
  /** the instance's variables (a copy: change them by returning `variables`) */
  variables: Variables;
}

/** What a script gives back: the variables it sets. */
export interface ScriptOutcome {
  variables?: Variables;
}

/** A script language: the interpreter behind one `scriptFormat`. */
export interface ScriptLanguage {
  /** the `scriptFormat` attribute value it answers to, lower case */
  format: string;
  /** checks a script at deployment; throws with a message naming what is wrong */
  check?(script: string): void;
  /**
   * Runs a script. Throw a {@link ScriptBpmnError} to throw a BPMN error at the task. A promise
   * keeps the instance's run waiting for it; timers falling due meanwhile still fire.
   */
  run(script: string, context: ScriptContext): ScriptOutcome | Promise<ScriptOutcome>;
}

/** Thrown by a script to raise a BPMN error with a code, caught like any other BPMN error. */
export class ScriptBpmnError extends Error {
  constructor(
    readonly code: string,
    message = code,
  ) {
    super(message);
  }
}

/** The script languages enabled on this server. */
export interface ScriptLanguages {
  /** the language of an enabled format, or undefined */
  get(format: string | undefined): ScriptLanguage | undefined;
  /** the enabled formats, for messages */
  enabled(): string[];
}

/**
 * The languages of the formats the operator enabled. Every enabled format must have a language:
 * a format nobody implements is a configuration error, reported at start-up.
 */
export function createScriptLanguages(languages: ScriptLanguage[], enabledFormats: readonly string[]): ScriptLanguages {
  const known = new Map(languages.map((language) => [language.format.toLowerCase(), language]));
  const enabled = new Map<string, ScriptLanguage>();
  for (const format of enabledFormats) {
    const language = known.get(format.toLowerCase());
    if (!language) throw new Error(`script format "${format}" is enabled but Baton has no such language (known: ${[...known.keys()].join(', ') || 'none'})`);
    enabled.set(format.toLowerCase(), language);
  }
  return {
    get: (format) => (format ? enabled.get(format.trim().toLowerCase()) : undefined),
    enabled: () => [...enabled.keys()],
  };
}

/** No script language: what a server without BATON_SCRIPT_FORMATS has. */
export const NO_SCRIPTS: ScriptLanguages = createScriptLanguages([], []);

/** The problems of one script task at deployment: its format must be enabled, its script valid. */
export function checkScriptTask(element: { id?: string; scriptFormat?: unknown; script?: unknown }, scripts: ScriptLanguages): Problem[] {
  const id = String(element.id);
  const format = typeof element.scriptFormat === 'string' ? element.scriptFormat.trim() : '';
  const language = scripts.get(format);
  if (!language) {
    const enabled = scripts.enabled();
    const why = !format ? 'has no scriptFormat' : `has scriptFormat "${format}", which is not enabled`;
    const hint = enabled.length ? `enabled formats: ${enabled.join(', ')}` : 'script tasks run only in formats an operator enables (BATON_SCRIPT_FORMATS)';
    return [{ path: id, message: `ScriptTask <${id}>: ${why}; ${hint}` }];
  }
  try {
    language.check?.(typeof element.script === 'string' ? element.script : '');
  } catch (err) {
    return [{ path: id, message: `ScriptTask <${id}>: ${(err as Error).message}` }];
  }
  return [];
}
