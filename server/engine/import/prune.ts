import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import { children } from '../extensions.ts';

/**
 * What bpmn-engine is given of a BPMN file: the one process to run and the root elements its
 * events refer to. Everything else that modeling tools put into a file (collaborations and their
 * pools, choreographies, conversations, item definitions, global tasks, resources, interfaces,
 * lanes, groups, text annotations) is kept in the stored XML for display and left out here, so
 * that the engine's loader never meets a type it does not know.
 */

/** Root elements bpmn-engine reads besides the process itself. */
const ENGINE_ROOTS = new Set(['bpmn:Message', 'bpmn:Signal', 'bpmn:Error', 'bpmn:Escalation', 'bpmn:DataStore']);

const DISPLAY_ONLY = new Set(['bpmn:TextAnnotation', 'bpmn:Group']);

/** An association between two flow elements, as compensation uses them. */
const isFlowAssociation = (artifact: ModdleElement): boolean => {
  const ends = [artifact.sourceRef, artifact.targetRef] as (ModdleElement | undefined)[];
  return artifact.$type === 'bpmn:Association' && ends.every((end) => end?.$type !== undefined && !DISPLAY_ONLY.has(end.$type));
};

/** Drops lanes and display-only artifacts of a process or sub-process and below, into `dropped`. */
function pruneScope(scope: ModdleElement, dropped: Set<ModdleElement>): void {
  for (const artifact of children(scope, 'artifacts')) if (!isFlowAssociation(artifact)) dropped.add(artifact);
  if (Array.isArray(scope.artifacts)) scope.artifacts = children(scope, 'artifacts').filter((artifact) => !dropped.has(artifact));
  for (const laneSet of children(scope, 'laneSets')) dropped.add(laneSet);
  delete scope.laneSets;
  // performers and other resources are for people reading the model; Baton assigns by camunda:assignee
  delete scope.resources;
  for (const element of children(scope, 'flowElements')) pruneScope(element, dropped);
}

/**
 * Cuts a freshly parsed context down to the process `key`, the processes its call activities run
 * (`called`) and the roots their events use, in place. A called process runs only when called: the
 * engine does not start it as well. The context must not be used for anything else afterwards.
 */
export function pruneForEngine(context: ModdleContext, key: string, called: string[] = []): void {
  const definitions = context.rootElement;
  const dropped = new Set<ModdleElement>();
  const keep = (root: ModdleElement): boolean =>
    (root.$type === 'bpmn:Process' && (root.id === key || called.includes(String(root.id)))) || ENGINE_ROOTS.has(root.$type);
  for (const root of children(definitions, 'rootElements')) if (root.$type === 'bpmn:Process' && root.id !== key && keep(root)) root.isExecutable = false;
  for (const root of children(definitions, 'rootElements')) if (!keep(root)) dropped.add(root);
  definitions.rootElements = children(definitions, 'rootElements').filter(keep);
  for (const root of children(definitions, 'rootElements')) pruneScope(root, dropped);
  // the loader walks the reference list: keep only the references made inside what remains
  const remains = (element: ModdleElement | undefined): boolean => {
    for (let at = element; at; at = at.$parent) if (dropped.has(at)) return false;
    return true;
  };
  context.references = (context.references as { element?: ModdleElement }[]).filter((reference) => remains(reference.element));
}
