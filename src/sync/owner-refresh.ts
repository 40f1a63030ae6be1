/**
 * The hourly run's refresh of changed owners (issue 13 §2): Gingr's `/new_modified_owners` for the
 * days since the tenant's last successful refresh, with a day of overlap, and those customers
 * updated with the full sync's rules inside the hourly run's own transaction. The fetch comes
 * before the transaction and never throws: its failure costs the reservations nothing, is
 * reported, and leaves the refresh point (`gingr_sync_tenants`) where it was, so the next run
 * asks for the same days again and nothing is skipped.
 */
import type { Queryable, TransactionSql } from '../db/connect.ts'
import { type FullCustomerRow, refreshCustomers } from '../db/full-writes.ts'
import { markOwnersRefreshed, ownersRefreshedThrough } from '../db/tenant-state.ts'
import { readOnLiveConnection } from '../db/transaction.ts'
import { errorMessage } from '../errors.ts'
import { addDays, type DateRange } from '../gingr/chunks.ts'
import type { GingrClient } from '../gingr/client.ts'
import type { InvalidItem } from '../gingr/schemas.ts'
import { customerRows } from './map-full.ts'

/** With no refresh yet, the days looked at: a week, since the weekly full sync covers the rest. */
export const FIRST_REFRESH_DAYS = 7

/** What a run's refresh did: the `ownerRefresh` of a tenant's result, and its log lines. */
export interface OwnerRefreshReport {
  /** The facility's days asked for. */
  range: DateRange
  /** Owners Gingr listed as created or changed in the range. */
  changed: number
  /** Customers written: a column Gingr owns differed. */
  updated: number
  /** Gingr owner ids whose new email another customer holds: their customer kept its own. */
  emailConflicts: string[]
  invalid: InvalidItem[]
  /** The refresh failed (the reservations synced all the same); the next run asks again. */
  error?: string
}

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

/**
 * Before the transaction: where the tenant's refresh stands, then Gingr's owners changed since.
 * More than `maxInvalidShare` of them invalid fails the refresh (the point stays, the next run asks
 * again), as for reservations: a format change would otherwise move the point past owners never
 * written. A few invalid ones are skipped and reported; the weekly full sync looks at them again.
 */
export async function changedOwnersSince(
  sql: Queryable,
  tenantId: string,
  client: GingrClient,
  today: string,
  maxInvalidShare: number,
): Promise<ChangedOwners> {
  const last = await readOnLiveConnection(() => ownersRefreshedThrough(sql, tenantId))
  const owners = await fetchChangedOwners(client, refreshRange(last, today))
  if (!owners.ok) return owners
  const listed = owners.customers.length + owners.invalid.length
  if (owners.invalid.length <= listed * maxInvalidShare) return owners
  const { range } = owners
  return {
    ok: false,
    range,
    error: `The refresh of changed owners (${range.from} to ${range.to}) failed: ${owners.invalid.length} of the ${listed} owners Gingr listed are invalid (more than ${maxInvalidShare * 100}%).`,
  }
}

/**
 * Inside the tenant's transaction, once: the customers of those owners updated where Gingr's
 * columns differ, and the refresh point moved to the range's end. A failed fetch writes nothing.
 */
export async function writeChangedOwners(tx: TransactionSql, tenantId: string, owners: ChangedOwners): Promise<OwnerRefreshReport> {
  if (!owners.ok) return { range: owners.range, changed: 0, updated: 0, emailConflicts: [], invalid: [], error: owners.error }
  const report: OwnerRefreshReport = {
    range: owners.range,
    changed: owners.customers.length + owners.invalid.length,
    updated: 0,
    emailConflicts: [],
    invalid: owners.invalid,
  }
  // Even with no owner changed: a run sends the same statements whatever Gingr answered.
  const { updated, conflicts } = await refreshCustomers(tx, tenantId, owners.customers)
  report.updated = updated.length
  report.emailConflicts = conflicts
  await markOwnersRefreshed(tx, tenantId, owners.range.to)
  return report
}
