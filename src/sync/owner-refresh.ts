/**
 * The hourly run's refresh of changed owners (issue 13 §2): Gingr's `/new_modified_owners` for the
 * days since the tenant's last successful refresh, with a day of overlap, and those customers
 * updated with the full sync's rules in the hourly run's own transaction. The pieces a tenant's
 * run calls: the range, the fetch (before the transaction: a failure never costs the
 * reservations, and is reported instead), the write (inside it).
 *
 * Not wired into src/sync/run.ts yet (another engineer's file), and the point it starts from needs
 * a place in gingr-sync's own tables (a column of gingr_sync_runs, or a table of its own): see
 * the notes. The next run starts again from the last successful point, so a failed
 * refresh skips nothing.
 */
import type { TransactionSql } from '../db/connect.ts'
import { type FullCustomerRow, refreshCustomers } from '../db/full-writes.ts'
import { errorMessage } from '../errors.ts'
import { addDays, type DateRange } from '../gingr/chunks.ts'
import type { GingrClient } from '../gingr/client.ts'
import type { InvalidItem } from '../gingr/schemas.ts'
import { customerRows } from './map-full.ts'

/** With no refresh yet, the days looked at: a week, since the weekly full sync covers the rest. */
export const FIRST_REFRESH_DAYS = 7

/**
 * The facility's days to ask for: from the day before the last successful refresh (an owner
 * changed late that day may have been missed: a day of overlap) to today, inclusive.
 */
export function refreshRange(lastRefreshed: string | null, today: string): DateRange {
  const from = lastRefreshed === null ? addDays(today, -FIRST_REFRESH_DAYS) : addDays(lastRefreshed < today ? lastRefreshed : today, -1)
  return { from, to: today }
}

export type ChangedOwners =
  | { ok: true; range: DateRange; customers: FullCustomerRow[]; invalid: InvalidItem[] }
  | { ok: false; range: DateRange; error: string }

/** The changed owners as customer rows, or why they could not be had (after the client's retries). */
export async function fetchChangedOwners(client: GingrClient, range: DateRange): Promise<ChangedOwners> {
  try {
    const { records, invalid } = await client.modifiedOwners(range)
    return { ok: true, range, customers: customerRows(records), invalid }
  } catch (error) {
    return { ok: false, range, error: `The refresh of changed owners (${range.from} to ${range.to}) failed: ${errorMessage(error)}` }
  }
}

/** Inside the tenant's transaction, once: the customers of those owners, updated where Gingr's columns differ. */
export async function writeChangedOwners(
  tx: TransactionSql,
  tenantId: string,
  owners: Extract<ChangedOwners, { ok: true }>,
): Promise<{ updated: number; emailConflicts: string[] }> {
  if (owners.customers.length === 0) return { updated: 0, emailConflicts: [] }
  const { updated, conflicts } = await refreshCustomers(tx, tenantId, owners.customers)
  return { updated: updated.length, emailConflicts: conflicts }
}
