/**
 * A stand-in for the company's accounting system, used by the salary demo: it knows each
 * employee's salary base and records payroll entries (in memory only).
 */
import { randomUUID } from 'node:crypto';
import { createDemoSystem, ProblemError, type DemoSystem, type DemoSystemOptions } from './demo-http.ts';
import { findEmployee, type Employee } from './employees.ts';

/** A payroll entry as `POST /payroll` answers it. */
export interface PayrollEntry {
  readonly payrollId: string;
  readonly employeeId: string;
  readonly salaryBase: number;
  readonly bonus: number;
  readonly total: number;
  readonly currency: 'EUR';
  readonly recordedAt: string;
}

/**
 * Creates the demo accounting system:
 * `GET /employees/:id/salary-base` → 200 `{employeeId, salaryBase, currency}` or 404;
 * `POST /payroll` `{employeeId, salaryBase, bonus}` → 201 {@link PayrollEntry}, 400 on a bad
 * body, 404 for an unknown employee.
 */
export function createAccountingSystem(opts: DemoSystemOptions = {}): DemoSystem {
  return createDemoSystem(
    'accounting',
    [
      {
        method: 'GET',
        path: /^\/employees\/([^/]+)\/salary-base$/,
        handle([id = '']) {
          const employee = knownEmployee(id);
          return { status: 200, body: { employeeId: employee.id, salaryBase: employee.salaryBase, currency: 'EUR' } };
        },
      },
      {
        method: 'POST',
        path: /^\/payroll$/,
        async handle(_params, readBody) {
          const { employeeId, salaryBase, bonus } = parsePayrollRequest(await readBody());
          knownEmployee(employeeId);
          const entry: PayrollEntry = {
            payrollId: `PR-${randomUUID().slice(0, 8).toUpperCase()}`,
            employeeId,
            salaryBase,
            bonus,
            total: Math.round((salaryBase + bonus) * 100) / 100,
            currency: 'EUR',
            recordedAt: new Date().toISOString(),
          };
          return { status: 201, body: entry };
        },
      },
    ],
    opts,
  );
}

function knownEmployee(id: string): Employee {
  const employee = findEmployee(id);
  if (!employee) throw new ProblemError(404, 'Not Found', `Employee ${id} is unknown`);
  return employee;
}

function parsePayrollRequest(body: unknown): { employeeId: string; salaryBase: number; bonus: number } {
  const problems: string[] = [];
  const record = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const { employeeId, salaryBase, bonus } = record;
  if (typeof employeeId !== 'string' || employeeId === '') problems.push('employeeId must be a non-empty string');
  if (!isAmount(salaryBase)) problems.push('salaryBase must be a non-negative number');
  if (!isAmount(bonus)) problems.push('bonus must be a non-negative number');
  if (problems.length > 0 || typeof employeeId !== 'string' || !isAmount(salaryBase) || !isAmount(bonus)) {
    throw new ProblemError(400, 'Bad Request', problems.join('; '));
  }
  return { employeeId, salaryBase, bonus };
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
