/**
 * "The database equals Gingr's truth", field by field. The expected values are derived here from
 * the simulator's wire records, independently of src/sync/map.ts: a test that reused the mapping
 * it checks could not catch its mistakes.
 */
import type { Sql } from '../src/db/connect.ts'
import type { WireReservation } from '../src/simulator/index.ts'

/** One reservation as the database should hold it; instants as ISO strings, links as Gingr ids. */
export interface ExpectedReservation {
  customer: string
  pet: string
  service: string
  startDate: string
  endDate: string
  status: string
  notes: string | null
  checkInDate: string | null
  checkOutDate: string | null
  cancelDate: string | null
}

const instant = (stamp: string): string => new Date(Date.parse(stamp)).toISOString()
const optionalInstant = (stamp: string | null): string | null => (stamp === null || !/\S/.test(stamp) ? null : instant(stamp))

/** What Tailtown should show for a Gingr reservation: the latest of its dated steps is its status. */
export function expectedReservation(r: WireReservation): ExpectedReservation {
  const notes = r.notes.reservation_notes
  const status = optionalInstant(r.cancelled_date)
    ? 'CANCELLED'
    : optionalInstant(r.check_out_date)
      ? 'COMPLETED'
      : optionalInstant(r.check_in_date)
        ? 'CHECKED_IN'
        : optionalInstant(r.confirmed_date)
          ? 'CONFIRMED'
          : 'PENDING'
  return {
    customer: r.owner.id,
    pet: r.animal.id,
    service: r.reservation_type.id,
    startDate: instant(r.start_date),
    endDate: instant(r.end_date),
    status,
    // PostgreSQL cannot store NUL; blank notes are no notes.
    notes: notes === null || !/\S/.test(notes) ? null : notes.replaceAll('\u0000', ''),
    checkInDate: optionalInstant(r.check_in_date),
    checkOutDate: optionalInstant(r.check_out_date),
    cancelDate: optionalInstant(r.cancelled_date),
  }
}

type StoredRow = ExpectedReservation & { externalId: string }

/** The tenant's reservations with their links resolved to Gingr ids, instants read as UTC wall time. */
export async function storedReservations(sql: Sql, tenantId: string): Promise<StoredRow[]> {
  const utc = (column: string) => sql.unsafe(`to_char(r."${column}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`)
  return [
    ...(await sql<StoredRow[]>`
    SELECT r."externalId", c."externalId" AS customer, p."externalId" AS pet, s."externalId" AS service,
           ${utc('startDate')} AS "startDate", ${utc('endDate')} AS "endDate", r.status::text AS status, r.notes,
           ${utc('checkInDate')} AS "checkInDate", ${utc('checkOutDate')} AS "checkOutDate", ${utc('cancelDate')} AS "cancelDate"
    FROM reservations r
    LEFT JOIN customers c ON c.id = r."customerId"
    LEFT JOIN pets p ON p.id = r."petId"
    LEFT JOIN services s ON s.id = r."serviceId"
    WHERE r."tenantId" = ${tenantId}
    ORDER BY r."externalId"`),
  ]
}

/**
 * Every way the tenant's rows differ from `truth` (the reservations Gingr returns for the
 * window): a missing or doubled row, or a field that differs. Empty when they are equal.
 */
export async function differencesFromGingr(sql: Sql, tenantId: string, truth: readonly WireReservation[]): Promise<string[]> {
  const stored = Map.groupBy(await storedReservations(sql, tenantId), (row) => row.externalId)
  const found: string[] = []
  for (const record of truth) {
    const rows = stored.get(record.reservation_id) ?? []
    if (rows.length !== 1) {
      found.push(`reservation ${record.reservation_id}: ${rows.length} rows`)
      continue
    }
    const expected = expectedReservation(record)
    const { externalId: _id, ...actual } = rows[0]!
    for (const field of Object.keys(expected) as (keyof ExpectedReservation)[]) {
      if (actual[field] !== expected[field]) {
        found.push(`reservation ${record.reservation_id} ${field}: stored ${clip(actual[field])}, Gingr ${clip(expected[field])}`)
      }
    }
  }
  return found
}

const clip = (value: string | null) => (value === null ? 'null' : JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value))
