import type { EventInput } from '@switchyard/core'
import type { RecordedEvent } from '@switchyard/event-store'

/** An employee as rebuilt from their stream (Olive's HR domain). */
export interface Employee {
  id: string
  hired: boolean
  email: string | undefined
  /** Leave requests by id, with their state. */
  leaves: Record<string, 'requested' | 'approved'>
}

/** The state before the first event. */
export const initialEmployee = (): Employee => ({
  id: '',
  hired: false,
  email: undefined,
  leaves: {},
})

/** Folds one event (Olive's `employee.created`, `leave.created`, `leave.approved`). */
export function evolve(state: Employee, { event }: RecordedEvent): Employee {
  const data = event.data as Record<string, string>
  switch (event.type) {
    case 'employee.created':
      return { ...state, id: data.employee_id!, hired: true, email: data.email }
    case 'leave.created':
      return { ...state, leaves: { ...state.leaves, [data.leave_id!]: 'requested' } }
    case 'leave.approved':
      return { ...state, leaves: { ...state.leaves, [data.leave_id!]: 'approved' } }
    default:
      return state
  }
}

/** A command refused by the aggregate's rules. */
export class EmployeeRuleError extends Error {
  override name = 'EmployeeRuleError'
}

/** The commands, as deciders: the current state in, the events to append out. */
export const decide = {
  hire(
    state: Employee,
    employee: { id: string; email: string; firstName: string; lastName: string },
  ): EventInput[] {
    if (state.hired) throw new EmployeeRuleError(`Employee ${employee.id} is hired already`)
    return [
      {
        type: 'employee.created',
        data: {
          employee_id: employee.id,
          email: employee.email,
          first_name: employee.firstName,
          last_name: employee.lastName,
        },
      },
    ]
  },
  requestLeave(
    state: Employee,
    leave: { id: string; type: string; start: string; end: string },
  ): EventInput[] {
    if (!state.hired) throw new EmployeeRuleError(`Employee ${state.id || '?'} is not hired`)
    if (state.leaves[leave.id] !== undefined)
      throw new EmployeeRuleError(`Leave ${leave.id} exists`)
    return [
      {
        type: 'leave.created',
        data: {
          leave_id: leave.id,
          employee_id: state.id,
          leave_type: leave.type,
          start_date: leave.start,
          end_date: leave.end,
        },
      },
    ]
  },
  approveLeave(state: Employee, leaveId: string, approvedBy: string): EventInput[] {
    if (state.leaves[leaveId] !== 'requested') {
      throw new EmployeeRuleError(`Leave ${leaveId} is not waiting for approval`)
    }
    return [
      {
        type: 'leave.approved',
        data: { leave_id: leaveId, employee_id: state.id, approved_by: approvedBy },
      },
    ]
  },
}
