import { TRACE_FORMAT } from './trace-language.ts';

/**
 * What betsy's per-engine adapters change in a test's BPMN file, and nothing more: script tasks
 * (and global script tasks, whose scripts betsy rewrites as well) get the trace language as their
 * scriptFormat (scriptLanguage) when they name none, and the neutral Java-like
 * expressions become Baton's `${...}` expressions. The process structure stays as the file has it.
 */

/** Elements whose text is an expression in betsy's neutral syntax. */
const EXPRESSIONS = ['conditionExpression', 'condition', 'loopCondition', 'completionCondition', 'loopCardinality', 'activationCondition'];

export function adaptForBaton(xml: string): string {
  let adapted = xml;
  // a global script task names its language in scriptLanguage (tGlobalScriptTask), a script task in scriptFormat
  for (const [name, attribute] of [['scriptTask', 'scriptFormat'], ['globalScriptTask', 'scriptLanguage']] as const) {
    const tag = new RegExp(`<((?:[\\w-]+:)?${name})\\b([^>]*?)(\\/?)>`, 'g');
    adapted = adapted.replace(tag, (whole, element: string, attributes: string, selfClosing: string) =>
      new RegExp(`\\s${attribute}\\s*=`).test(attributes) ? whole : `<${element}${attributes} ${attribute}="${TRACE_FORMAT}"${selfClosing}>`,
    );
  }
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
