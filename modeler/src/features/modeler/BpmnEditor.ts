import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule } from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import type Canvas from 'diagram-js/lib/core/Canvas';
import type ElementRegistry from 'diagram-js/lib/core/ElementRegistry';
import type Overlays from 'diagram-js/lib/features/overlays/Overlays';
import { h } from '../../app/dom.ts';

const PROBLEM_MARKER = 'baton-problem';
const PROBLEM_OVERLAY = 'baton-problem';

/** An empty executable process with a start event, for "New". */
export const NEW_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

/**
 * bpmn-js Modeler with the properties panel for the Camunda 7 attributes Baton executes (topics,
 * assignee, candidate groups, form fields, expressions, timers, error codes, retry cycles), and
 * markers for the problems the server found in a deployment.
 */
export class BpmnEditor {
  readonly canvasElement = h('div', { class: 'modeler-canvas' });
  readonly panelElement = h('div', { class: 'modeler-panel', 'aria-label': 'Properties' });
  private readonly modeler: BpmnModeler;

  constructor() {
    this.modeler = new BpmnModeler({
      container: this.canvasElement,
      propertiesPanel: { parent: this.panelElement },
      additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule],
      moddleExtensions: { camunda: camundaModdle },
    });
  }

  /** Opens BPMN XML; import warnings are returned as messages. */
  async open(xml: string): Promise<string[]> {
    const { warnings } = await this.modeler.importXML(xml);
    this.modeler.get<Canvas>('canvas').zoom('fit-viewport');
    return warnings.map((warning) => String((warning as { message?: string }).message ?? warning));
  }

  /** The diagram as BPMN XML. */
  async xml(): Promise<string> {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml ?? '';
  }

  /** The id of the first process (names the file). */
  processId(): string {
    const root = this.modeler.get<Canvas>('canvas').getRootElement() as { businessObject?: { id?: string; processRef?: { id?: string } } };
    return root.businessObject?.processRef?.id ?? root.businessObject?.id ?? 'diagram';
  }

  /** Marks the elements a problem names; returns the problems that name no element of the diagram. */
  showProblems(problems: { path?: string; message: string }[]): { path?: string; message: string }[] {
    this.clearProblems();
    const registry = this.modeler.get<ElementRegistry>('elementRegistry');
    const canvas = this.modeler.get<Canvas>('canvas');
    const overlays = this.modeler.get<Overlays>('overlays');
    const elsewhere: { path?: string; message: string }[] = [];
    for (const problem of problems) {
      const element = problem.path ? this.elementOf(registry, problem.path) : undefined;
      if (!element || !problem.path || element === canvas.getRootElement()) {
        elsewhere.push(problem);
        continue;
      }
      canvas.addMarker(element.id, PROBLEM_MARKER);
      overlays.add(element.id, PROBLEM_OVERLAY, {
        position: { top: ((element as { height?: number }).height ?? 0) + 6, left: 0 },
        html: h('div', { class: 'baton-badge baton-badge-failed baton-problem-message', role: 'note' }, problem.message),
      });
    }
    return elsewhere;
  }

  /** The shape or connection of an id: the element itself, or the one holding that event definition. */
  private elementOf(registry: ElementRegistry, id: string) {
    type Bo = { eventDefinitions?: { id?: string }[] };
    return registry.get(id) ?? registry.find((element) => Boolean((element.businessObject as Bo | undefined)?.eventDefinitions?.some((definition) => definition.id === id)));
  }

  clearProblems(): void {
    const canvas = this.modeler.get<Canvas>('canvas');
    for (const element of this.modeler.get<ElementRegistry>('elementRegistry').getAll()) canvas.removeMarker(element.id, PROBLEM_MARKER);
    this.modeler.get<Overlays>('overlays').remove({ type: PROBLEM_OVERLAY });
  }

  destroy(): void {
    this.modeler.destroy();
  }
}
