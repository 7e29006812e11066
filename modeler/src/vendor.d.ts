/** Packages without type declarations that the web app imports. */
declare module '*.css';
declare module 'bpmn-js-properties-panel';
declare module 'camunda-bpmn-js-behaviors/lib/camunda-platform';
