/**
 * How many loop characteristics (standardLoopCharacteristics, multiInstanceLoopCharacteristics)
 * each element of a BPMN file holds, by the element's id. An activity has at most one (the XML
 * schema and the specification's loopCharacteristics [0..1]); the moddle reader keeps only the last
 * of several, so they are counted with saxen, the XML parser the moddle reader itself uses. A file
 * with a DOCTYPE never gets here.
 */
import { Parser } from 'saxen';

const LOOPS = new Set(['standardLoopCharacteristics', 'multiInstanceLoopCharacteristics']);

/** the local part of a prefixed element name */
const local = (name: string): string => name.slice(name.indexOf(':') + 1);

export function loopMarkerCounts(xml: string): Map<string, number> {
  const counts = new Map<string, number>();
  // the ids of the elements open at this point of the text (undefined for one without an id)
  const open: (string | undefined)[] = [];
  const parser = new Parser();
  parser.on('openTag', (name: string, attributes: () => Record<string, string>, _decode: unknown, selfClosing: boolean) => {
    const parent = open.at(-1);
    if (LOOPS.has(local(name)) && parent !== undefined) counts.set(parent, (counts.get(parent) ?? 0) + 1);
    if (!selfClosing) open.push(attributes().id);
  });
  parser.on('closeTag', (_name: string, _decode: unknown, selfClosing: boolean) => {
    if (!selfClosing) open.pop();
  });
  parser.on('error', () => undefined);
  parser.parse(xml);
  return counts;
}
