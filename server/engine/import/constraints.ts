import type { ModdleContext } from 'bpmn-moddle';
import type { Problem } from '../../errors.ts';

export function checkConstraints(context: ModdleContext): Problem[] {
  void context;
  return [];
}
