/**
 * A stand-in for the HR bonus system, used by the salary demo: it computes an employee's
 * bonus from the rule in the shared employee data.
 */
import { createDemoSystem, ProblemError, type DemoSystem, type DemoSystemOptions } from './demo-http.ts';
import { bonusFor, findEmployee } from './employees.ts';

/**
 * Creates the demo bonus system: `GET /employees/:id/bonus` → 200 `{employeeId, bonus}`,
 * or 404 with a problem body for an employee it does not know (e.g. `E-999`).
 */
export function createBonusSystem(opts: DemoSystemOptions = {}): DemoSystem {
  return createDemoSystem(
    'bonus',
    [
      {
        method: 'GET',
        path: /^\/employees\/([^/]+)\/bonus$/,
        handle([id = '']) {
          const employee = findEmployee(id);
          if (!employee) throw new ProblemError(404, 'Not Found', `Employee ${id} is unknown`);
          return { status: 200, body: { employeeId: employee.id, bonus: bonusFor(employee), currency: 'EUR' } };
        },
      },
    ],
    opts,
  );
}
