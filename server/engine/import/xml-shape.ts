/**
 * The shape of a BPMN text as bpmn-moddle will read it, found before bpmn-moddle reads it. The text
 * is read by saxen, the tokenizer bpmn-moddle parses with, set up as bpmn-moddle sets it up (the
 * same namespace prefixes, attributes read on every tag), so the check and the parse cannot disagree
 * on where a tag ends: a hand-written scanner that took an unbalanced quote for the start of a
 * value saw one element where the parser saw 20,000 nested ones.
 */
import { Parser } from 'saxen';
import { moddleFor } from '../definitions.ts';

/** How large a BPMN text may be: elements in all, and levels of nesting. */
export interface ShapeLimits {
  depth: number;
  elements: number;
}

/** What one read of a text finds: the first reason to refuse it (or null), and the text of each timer cycle. */
export interface XmlShape {
  problem: string | null;
  cycles: string[];
}

/** the prefixes moddle-xml gives these namespaces besides those of its packages */
const XML_NAMESPACES: Record<string, string> = {
  'http://www.w3.org/2001/XMLSchema-instance': 'xsi',
  'http://www.w3.org/XML/1998/namespace': 'xml',
};

/** ends a read early: with the reason to refuse the text, or null when the parse refuses it anyway */
class Refusal extends Error {
  constructor(readonly reason: string | null) {
    super(reason ?? 'left to the parser');
  }
}

/**
 * Reads a BPMN text once, stopping at the first limit it exceeds. Also refuses XML that is not
 * well-formed in a way bpmn-moddle would tolerate with a warning (an attribute without quotes, text
 * outside the root element): no modeler writes it, and bpmn-moddle locates each such warning by
 * reading the text from its start, so thousands of them cost minutes. A text the parser cannot read at all, or with a DOCTYPE, is left to parseBpmn, which
 * refuses it saying why.
 */
export function readXmlShape(xml: string, limits: ShapeLimits): XmlShape {
  const namespaces = { ...XML_NAMESPACES };
  for (const { uri, prefix } of moddleFor(xml).getPackages()) namespaces[uri] = prefix;
  const cycles: string[] = [];
  let depth = 0;
  let elements = 0;
  let cycle: string | null = null;
  const parser = new Parser().ns(namespaces);
  parser.on('openTag', (name, attributes, _decode, selfClosing) => {
    attributes();
    if (++elements > limits.elements) throw new Refusal(`more than ${limits.elements} XML elements`);
    if (selfClosing) return;
    if (++depth > limits.depth) throw new Refusal(`XML elements nested deeper than ${limits.depth} levels`);
    if (name === 'bpmn:timeCycle') cycle = '';
  });
  parser.on('closeTag', (name, _decode, selfClosing) => {
    if (selfClosing) return;
    depth--;
    if (name === 'bpmn:timeCycle' && cycle !== null) {
      cycles.push(cycle.trim());
      cycle = null;
    }
  });
  parser.on('text', (text, decode) => {
    if (cycle !== null) cycle += decode(text);
  });
  parser.on('cdata', (text) => {
    if (cycle !== null) cycle += text;
  });
  parser.on('attention', (text) => {
    // parseBpmn refuses a file with a DOCTYPE or an entity declaration anywhere before parsing it
    if (/^<!(DOCTYPE|ENTITY)/i.test(text)) throw new Refusal(null);
  });
  parser.on('warn', (err, context) => {
    const { line, column } = context();
    throw new Refusal(`not well-formed XML: ${err.message} at line ${line + 1}, column ${column + 1}`);
  });
  parser.on('error', () => parser.stop());
  try {
    parser.parse(xml);
  } catch (err) {
    // thrown from a handler, it ends the read at once (stop() would wait for the tag's attributes)
    if (err instanceof Refusal) return { problem: err.reason, cycles };
    throw err;
  }
  return { problem: null, cycles };
}
