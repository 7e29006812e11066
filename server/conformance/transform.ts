import { TRACE_FORMAT } from './trace-language.ts';

/**
 * What betsy's per-engine adapters change in a test's BPMN file, and nothing more: script tasks
 * get the trace language as their scriptFormat (when they name none), and the neutral Java-like
 * expressions become Baton's `${...}` expressions. The process structure stays as the file has it.
 */

/** Elements whose text is an expression in betsy's neutral syntax. */
const EXPRESSIONS = ['conditionExpression', 'condition', 'loopCondition', 'completionCondition', 'loopCardinality', 'activationCondition'];

export function adaptForBaton(xml: string): string {
  let adapted = xml.replace(/<((?:[\w-]+:)?scriptTask)\b([^>]*?)(\/?)>/g, (whole, tag: string, attributes: string, selfClosing: string) =>
    /\sscriptFormat\s*=/.test(attributes) ? whole : `<${tag}${attributes} scriptFormat="${TRACE_FORMAT}"${selfClosing}>`,
  );
  for (const name of EXPRESSIONS) {
    const element = new RegExp(`(<(?:[\\w-]+:)?${name}(?:\\s[^>]*?)?(?<!/)>)((?:[^<]|<!\\[CDATA\\[[\\s\\S]*?\\]\\]>)*)(</(?:[\\w-]+:)?${name}>)`, 'g');
    adapted = adapted.replace(element, (whole, open: string, body: string, close: string) => {
      const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(body);
      const text = (cdata ? (cdata[1] ?? '') : body).trim();
      if (!text || text.includes('${')) return whole;
      return cdata ? `${open}<![CDATA[\${${text}}]]>${close}` : `${open}\${${text}}${close}`;
    });
  }
  return adapted;
}
