/**
 * The fictional staff known to the demo accounting and bonus systems. One module so both
 * systems agree on who exists; anyone else (for example `E-999`) is unknown to both.
 */

/** How the bonus system computes an employee's bonus. */
export type BonusRule =
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'fixed'; readonly amount: number }
  | { readonly kind: 'none' };

/** An employee as the demo systems see them. Amounts are monthly, in EUR. */
export interface Employee {
  readonly id: string;
  readonly name: string;
  readonly salaryBase: number;
  readonly bonusRule: BonusRule;
}

/** Employees `E-100` … `E-105`. */
export const employees: readonly Employee[] = Object.freeze([
  { id: 'E-100', name: 'Ada Lovelace', salaryBase: 5200, bonusRule: { kind: 'percent', percent: 10 } },
  { id: 'E-101', name: 'Grace Hopper', salaryBase: 6100, bonusRule: { kind: 'percent', percent: 15 } },
  { id: 'E-102', name: 'Alan Turing', salaryBase: 4800, bonusRule: { kind: 'fixed', amount: 500 } },
  { id: 'E-103', name: 'Edsger Dijkstra', salaryBase: 5500, bonusRule: { kind: 'none' } },
  { id: 'E-104', name: 'Barbara Liskov', salaryBase: 7000, bonusRule: { kind: 'percent', percent: 12.5 } },
  { id: 'E-105', name: 'Donald Knuth', salaryBase: 3900, bonusRule: { kind: 'fixed', amount: 250 } },
]);

/** The employee with this id, or undefined when the demo systems do not know them. */
export function findEmployee(id: string): Employee | undefined {
  return employees.find((employee) => employee.id === id);
}

/** The bonus in EUR (rounded to cents) that the employee's rule yields. */
export function bonusFor(employee: Employee): number {
  const rule = employee.bonusRule;
  switch (rule.kind) {
    case 'percent':
      return Math.round(employee.salaryBase * rule.percent) / 100;
    case 'fixed':
      return rule.amount;
    case 'none':
      return 0;
  }
}
