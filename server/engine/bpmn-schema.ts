import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Descriptor {
  types: { name: string; properties?: { name: string; isAttr?: boolean }[] }[];
}

/**
 * bpmn-moddle's descriptor of the BPMN 2.0 namespace, corrected where it departs from the
 * specification's XSD (Semantic.xsd): a globalScriptTask holds its script in a `<script>` child
 * element, as a scriptTask does (tGlobalScriptTask), where bpmn-moddle expects an attribute and
 * drops the element. Given to BpmnModdle in place of its own `bpmn` package.
 */
export const BPMN_PACKAGE: object = (() => {
  const descriptor = structuredClone(require('bpmn-moddle/resources/bpmn/json/bpmn.json') as Descriptor);
  const script = descriptor.types.find((type) => type.name === 'GlobalScriptTask')?.properties?.find((property) => property.name === 'script');
  if (script) delete script.isAttr;
  return descriptor;
})();
