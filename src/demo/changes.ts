/**
 * What happens at the front desk between two hourly runs: a new booking, a cancellation, a stay
 * moved by a day and an early check-in, made in the simulated Gingr account. Each change knows how
 * its Tailtown row must look after the next sync, so the demo can check the database itself.
 */
import type { Sql } from '../db/connect.ts'
import type { DateRange } from '../gingr/chunks.ts'
import type { Simulator, WireReservation } from '../simulator/index.ts'
import { DemoFailure } from './run-cli.ts'

const DAY_MS = 86_400_000

export interface Change {
  externalId: string
  /** One line for the terminal. */
  description: string
  /** What the row must hold after the next sync. */
  expected: { status: string; startDate?: Date }
}

/** "Bella's Boarding | Indoor Suite (#6931), 2026-11-28 08:00": the facility's wall clock, as Gingr shows it. */
function describe(r: WireReservation): string {
  return `${r.animal.name}'s ${r.reservation_type.type} (#${r.reservation_id}), ${r.start_date.slice(0, 16).replace('T', ' ')}`
}

/** Confirmed stays that have not begun, soonest first: the ones a front desk still changes. */
function upcoming(sim: Simulator, window: DateRange): WireReservation[] {
  const now = Date.now()
  return sim.account
    .matching(window.from, window.to)
    .filter((r) => r.confirmed_date !== null && r.check_in_date === null && r.cancelled_date === null && Date.parse(r.start_date) > now)
}

export function changeSomeReservations(sim: Simulator, window: DateRange): Change[] {
  const [arriving, moving, cancelling] = upcoming(sim, window)
  if (!arriving || !moving || !cancelling) throw new DemoFailure('The simulated account has fewer than three upcoming stays to change.')

  const booked = sim.account.addReservation()
  sim.account.checkIn(arriving.reservation_id)
  sim.account.cancelReservation(cancelling.reservation_id)
  // The soonest stays move by one day, so they stay inside the window.
  const start = new Date(Date.parse(moving.start_date) + DAY_MS)
  const moved = sim.account.moveReservation(moving.reservation_id, start, new Date(Date.parse(moving.end_date) + DAY_MS))

  return [
    { externalId: booked.reservation_id, description: `New booking: ${describe(booked)}`, expected: { status: 'CONFIRMED' } },
    {
      externalId: arriving.reservation_id,
      description: `Checked in early, just now: ${describe(arriving)}`,
      expected: { status: 'CHECKED_IN' },
    },
    { externalId: cancelling.reservation_id, description: `Cancelled: ${describe(cancelling)}`, expected: { status: 'CANCELLED' } },
    {
      externalId: moving.reservation_id,
      description: `Moved one day later: ${describe(moving)} → ${moved.start_date.slice(0, 16).replace('T', ' ')}`,
      expected: { status: 'CONFIRMED', startDate: start },
    },
  ]
}

/** The sentences of what the database does not show as expected; none when every change arrived. */
export async function missingChanges(sql: Sql, tenantId: string, changes: readonly Change[]): Promise<string[]> {
  const rows = await sql<{ externalId: string; status: string; startDate: Date }[]>`
    SELECT "externalId", status::text AS status, "startDate"
    FROM reservations
    WHERE "tenantId" = ${tenantId} AND "externalId" IN ${sql(changes.map((c) => c.externalId))}`
  return changes.flatMap(({ externalId, expected }) => {
    const row = rows.find((r) => r.externalId === externalId)
    if (!row) return [`reservation #${externalId} is not in the database`]
    if (row.status !== expected.status) return [`reservation #${externalId} is ${row.status}, not ${expected.status}`]
    if (expected.startDate && row.startDate.getTime() !== expected.startDate.getTime()) {
      return [`reservation #${externalId} starts at ${row.startDate.toISOString()}, not ${expected.startDate.toISOString()}`]
    }
    return []
  })
}
