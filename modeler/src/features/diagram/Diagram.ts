import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import type Canvas from 'diagram-js/lib/core/Canvas';
import type ElementRegistry from 'diagram-js/lib/core/ElementRegistry';
import type Overlays from 'diagram-js/lib/features/overlays/Overlays';
import { h } from '../../app/dom.ts';

/** Every marker class Baton puts on diagram elements (documented in the README for restyling). */
export const MARKERS = ['baton-completed', 'baton-active', 'baton-failed', 'baton-taken', 'baton-selected', ...[1, 2, 3, 4, 5].map((n) => `baton-heat-${n}`)];
const OVERLAY_TYPE = 'baton';

/**
 * A read-only BPMN diagram (bpmn-js NavigatedViewer: pan and zoom) that Baton annotates with
 * marker classes and badges. Annotations are replaced as a whole, so live updates keep the view.
 */
export class Diagram {
  readonly element: HTMLElement;
  private readonly viewer: NavigatedViewer;

  constructor(label: string) {
    this.element = h('div', { class: 'diagram', role: 'img', 'aria-label': label });
    this.viewer = new NavigatedViewer({ container: this.element });
  }

  /** Shows a BPMN document, fitted into the view; a document without a layout (BPMN DI) gets a note instead. */
  async show(xml: string): Promise<void> {
    try {
      await this.viewer.importXML(xml);
      this.canvas().zoom('fit-viewport');
    } catch (err) {
      this.element.classList.add('diagram-missing');
      this.element.append(h('p', { class: 'muted' }, `No diagram to show (${(err as Error).message}): the BPMN file has no layout.`));
    }
  }

  /** Removes every marker and badge Baton added. */
  clear(): void {
    const canvas = this.canvas();
    for (const element of this.registry().getAll()) for (const marker of MARKERS) canvas.removeMarker(element.id, marker);
    this.viewer.get<Overlays>('overlays').remove({ type: OVERLAY_TYPE });
  }

  /** True when the diagram has an element of this id. */
  has(id: string): boolean {
    return Boolean(this.registry().get(id));
  }

  /** True for an element drawn around others (an expanded sub-process). */
  isContainer(id: string): boolean {
    const element = this.registry().get(id) as { children?: unknown[] } | undefined;
    return Boolean(element?.children?.length);
  }

  /** Adds a marker class to an element or sequence flow. */
  mark(id: string, marker: string): void {
    if (this.has(id)) this.canvas().addMarker(id, marker);
  }

  /** Adds a badge (text only) at a corner of an element. */
  badge(id: string, text: string, kind: string, where: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'below', title?: string): void {
    const element = this.registry().get(id) as { width?: number; height?: number } | undefined;
    if (!element) return;
    const height = element.height ?? 0;
    const position =
      where === 'top-left' ? { top: -10, left: -10 }
      : where === 'top-right' ? { top: -10, right: 10 }
      : where === 'bottom-left' ? { bottom: 10, left: -10 }
      : where === 'bottom-right' ? { bottom: 10, right: 10 }
      : { top: height + 6, left: 0 };
    const html = h('div', { class: `baton-badge baton-badge-${kind}`, title: title ?? null }, text);
    this.viewer.get<Overlays>('overlays').add(id, OVERLAY_TYPE, { position, html });
  }

  destroy(): void {
    this.viewer.destroy();
  }

  private canvas(): Canvas {
    return this.viewer.get<Canvas>('canvas');
  }

  private registry(): ElementRegistry {
    return this.viewer.get<ElementRegistry>('elementRegistry');
  }
}
