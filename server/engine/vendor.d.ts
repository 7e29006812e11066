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
    /** the error the warning reports (its message without the position) */
    error?: Error;
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
    getPackages(): { uri: string; prefix: string }[];
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
    on(event: 'text', handler: (text: string, decode: (text: string) => string) => void): this;
    on(event: 'cdata', handler: (text: string) => void): this;
    /** `<!…>` outside comments and CDATA: a DOCTYPE or another declaration */
    on(event: 'attention', handler: (text: string) => void): this;
    on(event: 'error' | 'warn', handler: (err: Error, context: () => { line: number; column: number }) => void): this;
    /** read names by namespace, each namespace under the prefix this map gives it */
    ns(uriToPrefix: Record<string, string>): this;
    parse(xml: string): this;
    /** stops the parse in progress (from within a handler) */
    stop(): void;
  }
}
