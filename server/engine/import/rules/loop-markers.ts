/**
 * How many loop characteristics (standardLoopCharacteristics, multiInstanceLoopCharacteristics)
 * each element of a BPMN file holds, by the element's id. An activity has at most one (the XML
 * schema and the specification's loopCharacteristics [0..1]); the moddle reader keeps only the last
 * of several, so they are counted in the text. Comments, CDATA sections and processing instructions
 * are left out; quoted attribute values may hold `>`. A file with a DOCTYPE never gets here.
 */

const SKIPPED = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g;
const TAG = /<(\/?)(?:[\w.-]+:)?([\w.-]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
const ID = /\sid\s*=\s*(?:"([^"]*)"|'([^']*)')/;
const LOOPS = new Set(['standardLoopCharacteristics', 'multiInstanceLoopCharacteristics']);

export function loopMarkerCounts(xml: string): Map<string, number> {
  const counts = new Map<string, number>();
  // the ids of the elements open at this point of the text (undefined for one without an id)
  const open: (string | undefined)[] = [];
  for (const [, closing, name = '', attributes = '', selfClosing] of xml.replace(SKIPPED, '').matchAll(TAG)) {
    if (closing) {
      open.pop();
      continue;
    }
    const parent = open.at(-1);
    if (LOOPS.has(name) && parent !== undefined) counts.set(parent, (counts.get(parent) ?? 0) + 1);
    if (!selfClosing) {
      const id = ID.exec(attributes);
      open.push(id ? (id[1] ?? id[2]) : undefined);
    }
  }
  return counts;
}
