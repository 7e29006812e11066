// Minimal typings for the untyped libraries that only server/engine imports.
declare module 'bpmn-moddle' {
  export interface ModdleElement {
    $type: string;
    id?: string;
    name?: string;
    $attrs?: Record<string, string>;
    $parent?: ModdleElement;
    [property: string]: unknown;
  }
  export interface ModdleWarning {
    message: string;
    element?: ModdleElement;
    property?: string;
  }
  export interface ModdleContext {
    rootElement: ModdleElement;
    elementsById: Record<string, ModdleElement>;
    references: unknown[];
    warnings: ModdleWarning[];
  }
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
    fromXML(xml: string, options?: Record<string, unknown>): Promise<ModdleContext>;
  }
}
declare module 'moddle-context-serializer' {
  export interface SerializedContext {
    id: string;
    serialize(): string;
  }
  export function TypeResolver(types: Record<string, unknown>, extender?: (types: Record<string, unknown>) => void): unknown;
  export default function serializer(context: unknown, typeResolver: unknown): SerializedContext;
}
declare module 'bpmn-elements';

declare module 'saxen' {
  /** the sax parser bpmn-moddle reads XML with (only what Baton uses) */
  export class Parser {
    on(event: 'openTag', handler: (name: string, attributes: () => Record<string, string>, decode: unknown, selfClosing: boolean) => void): this;
    on(event: 'closeTag', handler: (name: string, decode: unknown, selfClosing: boolean) => void): this;
    on(event: 'error' | 'warn', handler: (err: Error) => void): this;
    parse(xml: string): this;
  }
}
