import { describeDbError, isDbError, type Sql, type TransactionSql } from '../db/connect.ts'
import { type RunRecord, recordRun } from '../db/runs.ts'
import { stampTenantSynced, type Tenant } from '../db/tenants.ts'
import { inTransaction, isConnectionLost, readOnLiveConnection } from '../db/transaction.ts'
import { cancelStays, unseenStays, type WindowBounds } from '../db/vanished.ts'
import { type WriteCounts, writeWindow } from '../db/writes.ts'
import { errorMessage } from '../errors.ts'
import { addDays, type DateRange } from '../gingr/chunks.ts'
import { GingrClient, type GingrClientOptions } from '../gingr/client.ts'
import type { InvalidRecord } from '../gingr/schemas.ts'
import { instantOfWallTime } from '../gingr/wall-time.ts'
import { collectWindow, windowEntries } from './map.ts'
import { type ChangedOwners, changedOwnersSince, type OwnerRefreshReport, writeChangedOwners } from './owner-refresh.ts'
import { emptyReport, resolveVanished, type VanishedMode, type VanishedReport } from './vanished.ts'
import { todayIn } from './window.ts'

export type TenantStatus = 'synced' | 'failed' | 'locked'

/** One tenant's outcome: the `tenants[]` entry of `--json`, and what the log block prints. */
export interface TenantResult {
  tenantId: string
  businessName: string
  status: TenantStatus
  dryRun: boolean
  /** Null when the tenant failed before it had one (a setting of its own is wrong). */
  window: DateRange | null
  fetched: number
  reservations: { created: number; updated: number; unchanged: number; skipped: number; errors: number }
  customersCreated: number
  petsCreated: number
  servicesCreated: number
  durationMs: number
  statements: number
  error?: string
  invalid: InvalidRecord[]
  /** Stays Gingr stopped returning for the window: moved, cancelled, withheld by the guard, ... */
  vanished: VanishedReport
  /** The refresh of owners changed in Gingr; null when the run wrote nothing (failed, locked). */
  ownerRefresh: OwnerRefreshReport | null
}

export interface TenantRunOptions {
  sql: Sql
  tenant: Pick<Tenant, 'id' | 'businessName'>
  gingr: GingrClientOptions
  window: DateRange
  dryRun: boolean
  /** Counts the statements sent on `sql`, for the report and the benchmarks. */
  statements?: () => number
  /** Told of each step, for the progress lines. */
  onProgress?: (event: ProgressEvent) => void
  /** What to do with stays deleted in Gingr; default: cancel them (within the guard's limit). */
  vanished?: { mode: VanishedMode; maxCancel?: number; limitSetting?: string }
  /** The clock that decides the facility's today for the owner refresh (tests). */
  now?: Date
}

export type ProgressEvent = { step: 'fetching'; window: DateRange } | { step: 'fetched'; count: number; invalid: InvalidRecord[] }

/** After the run's record is made: its INSERT, then COMMIT (or a dry run's ROLLBACK). */
const STATEMENTS_AFTER_RECORD = 2

/** Thrown inside the transaction to roll a dry run back after it did everything a real run does. */
class DryRunRollback extends Error {}

/**
 * More invalid records than this share of Gingr's answer fails the tenant instead of syncing the
 * rest: a change of Gingr's format (or a broken proxy) makes most records invalid, and syncing the
 * few that pass would stamp the tenant "synced" while its window is mostly missing. A stray bad
 * record or two is the ordinary case: those are skipped and reported (exit 3).
 */
export const MAX_INVALID_SHARE = 0.5

function emptyResult(tenant: Pick<Tenant, 'id' | 'businessName'>, dryRun: boolean, window: DateRange | null): TenantResult {
  return {
    tenantId: tenant.id,
    businessName: tenant.businessName,
    status: 'failed',
    dryRun,
    window,
    fetched: 0,
    reservations: { created: 0, updated: 0, unchanged: 0, skipped: 0, errors: 0 },
    customersCreated: 0,
    petsCreated: 0,
    servicesCreated: 0,
    durationMs: 0,
    statements: 0,
    invalid: [],
    vanished: emptyReport(),
    ownerRefresh: null,
  }
}

/**
 * A run stopped by a signal or its deadline, recorded (best effort: the caller bounds the wait)
 * as a failure that says so, while its open transaction is being rolled back.
 */
export async function recordInterruption(
  sql: Sql,
  run: { tenant: Pick<Tenant, 'id' | 'businessName'>; window: DateRange; startedAt: Date; dryRun: boolean; reason: string },
): Promise<void> {
  const result = { ...emptyResult(run.tenant, run.dryRun, run.window), error: run.reason }
  result.durationMs = Date.now() - run.startedAt.getTime()
  await recordFailure(sql, runRecord(result, run.startedAt))
}

/** A tenant whose own settings are wrong fails alone, before any fetch, recorded like any failure. */
export async function failTenant(options: Pick<TenantRunOptions, 'sql' | 'tenant' | 'dryRun'> & { error: string }): Promise<TenantResult> {
  const result = { ...emptyResult(options.tenant, options.dryRun, null), error: options.error }
  if (!options.dryRun)
    result.error = withUnrecorded(result.error, await recordFailure(options.sql, runRecord(result, new Date())), options.sql)
  return result
}

/**
 * One tenant's run: fetch and validate the whole window first (a failed fetch writes nothing), then
 * one transaction that takes the tenant's lock, writes the window set-based, stamps the tenant and
 * records the run. Any error rolls all of it back; the failure is then recorded on its own.
 */
export async function syncTenant(options: TenantRunOptions): Promise<TenantResult> {
  const started = new Date()
  const startedMs = performance.now()
  const statementsAtStart = options.statements?.() ?? 0
  const result = emptyResult(options.tenant, options.dryRun, options.window)
  /** `still`: statements that will yet be sent, counted now so that the run history says the same as --json. */
  const finish = (still = 0) => {
    result.durationMs = Math.round(performance.now() - startedMs)
    result.statements = (options.statements?.() ?? 0) - statementsAtStart + still
    return result
  }

  try {
    options.onProgress?.({ step: 'fetching', window: options.window })
    const client = new GingrClient(options.gingr)
    const keep = windowEntries()
    const fetched = await client.fetchReservationWindow(options.window, keep)
    result.fetched = fetched.reservations.length + fetched.invalid.length
    result.invalid = fetched.invalid
    result.reservations.skipped = fetched.invalid.length
    options.onProgress?.({ step: 'fetched', count: result.fetched, invalid: fetched.invalid })
    if (fetched.invalid.length > result.fetched * MAX_INVALID_SHARE) {
      throw new Error(
        `${fetched.invalid.length} of the ${result.fetched} reservations Gingr sent are invalid (more than ${MAX_INVALID_SHARE * 100}%): nothing was written, as the window would be mostly missing.`,
      )
    }

    // The fetch was complete (every chunk answered): what it did not return has vanished. An
    // invalid record's readable id counts as returned.
    const seen = [
      ...fetched.reservations.map((entry) => entry.reservation.externalId),
      ...fetched.invalid.flatMap((r) => (r.reservationId === null ? [] : [r.reservationId])),
    ]
    const bounds = windowBounds(options.window, options.gingr.timeZone)
    const { active, unseen } = await readOnLiveConnection(() => unseenStays(options.sql, options.tenant.id, bounds, seen))
    const { report, found, toCancel } = await resolveVanished({
      client,
      unseen,
      active,
      emptyAnswer: result.fetched === 0,
      mode: options.vanished?.mode ?? 'cancel',
      maxCancel: options.vanished?.maxCancel,
      limitSetting: options.vanished?.limitSetting ?? "the tenant's maxCancel",
    })
    result.vanished = report

    // After the window, and never fatal: a failure is reported and the next run asks again.
    const today = todayIn(options.gingr.timeZone ?? 'UTC', options.now)
    const owners = await changedOwnersSince(options.sql, options.tenant.id, client, today, MAX_INVALID_SHARE)

    const rows = collectWindow([...fetched.reservations, ...found.map(keep)])
    const outcome = await writeInTransaction(options, rows, toCancel, owners, (counts, cancelled, refreshed) => {
      report.cancelled = cancelled
      result.ownerRefresh = refreshed
      applyCounts(result, counts, rows.reservations.length)
      result.status = 'synced'
      finish(STATEMENTS_AFTER_RECORD)
      return runRecord(result, started)
    })
    if (outcome === 'locked') {
      // Another run has the tenant: nothing of this one's look-ups was acted upon.
      result.status = 'locked'
      result.vanished = emptyReport()
      result.ownerRefresh = null
      return finish()
    }
    result.durationMs = Math.round(performance.now() - startedMs)
    return result
  } catch (error) {
    result.status = 'failed'
    result.error = describeFailure(error, options.sql)
    // Nothing was written: no stay moved or was cancelled, no customer refreshed, whatever was found.
    result.vanished = emptyReport()
    result.ownerRefresh = null
    finish()
    // A run stopped by a signal or its deadline is recorded by whoever stopped it (recordInterruption).
    if (!options.dryRun && !options.gingr.signal?.aborted) {
      result.error = withUnrecorded(result.error, await recordFailure(options.sql, runRecord(result, started)), options.sql)
    }
    return result
  }
}

function applyCounts(result: TenantResult, counts: WriteCounts, valid: number): void {
  result.reservations.created = counts.reservationsCreated
  result.reservations.updated = counts.reservationsUpdated
  result.reservations.unchanged = valid - counts.reservationsCreated - counts.reservationsUpdated
  result.customersCreated = counts.customersCreated
  result.petsCreated = counts.petsCreated
  result.servicesCreated = counts.servicesCreated
}

async function writeInTransaction(
  options: TenantRunOptions,
  rows: ReturnType<typeof collectWindow>,
  toCancel: readonly string[],
  owners: ChangedOwners,
  complete: (counts: WriteCounts, cancelled: string[], refreshed: OwnerRefreshReport) => RunRecord,
): Promise<'written' | 'locked'> {
  try {
    return await inTransaction(options.sql, async (tx) => {
      // Two-key form: a namespace of our own, so other users of advisory locks never collide with us.
      const [lock] = await tx<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(hashtext('gingr-sync'), hashtext(${options.tenant.id})) AS locked`
      if (!lock?.locked) return 'locked' as const
      await tx`SELECT ${sessionForWrites(tx)}`
      const counts = await writeWindow(tx, options.tenant.id, rows)
      const cancelled = await cancelStays(tx, options.tenant.id, toCancel)
      const refreshed = await writeChangedOwners(tx, options.tenant.id, owners)
      await stampTenantSynced(tx, options.tenant.id)
      await recordRun(tx, complete(counts, cancelled, refreshed))
      if (options.dryRun) throw new DryRunRollback()
      return 'written' as const
    })
  } catch (error) {
    if (error instanceof DryRunRollback) return 'written'
    throw error
  }
}

/**
 * The transaction's own settings, in the statement that would be sent anyway:
 * - UTC: the connection already asks for it; set locally, it holds even behind a pooler;
 * - a check, every second, that the client is still there (PostgreSQL 14+): a run stopped while
 *   its statement waits on a lock closes its connection, and without the check the backend waits
 *   on, holding the tenant's lock, until the statement timeout.
 */
export function sessionForWrites(tx: TransactionSql) {
  return tx`set_config('TimeZone', 'UTC', true),
    CASE WHEN current_setting('server_version_num')::int >= 140000
      THEN set_config('client_connection_check_interval', '1000', true) END`
}

/** The window's calendar days as instants: its first day's midnight to the midnight after its last, in the zone. */
function windowBounds(window: DateRange, timeZone = 'UTC'): WindowBounds {
  const midnight = (day: string) => new Date(instantOfWallTime(Date.parse(`${day}T00:00:00Z`), timeZone))
  return { from: midnight(window.from), to: midnight(addDays(window.to, 1)) }
}

/** The run-history row of a result whose duration and statement count are final. */
function runRecord(result: TenantResult, started: Date): RunRecord {
  return {
    tenantId: result.tenantId,
    startedAt: started,
    finishedAt: new Date(),
    dryRun: result.dryRun,
    status: result.status === 'synced' ? 'synced' : 'failed',
    windowFrom: result.window?.from ?? null,
    windowTo: result.window?.to ?? null,
    fetched: result.fetched,
    created: result.reservations.created,
    updated: result.reservations.updated,
    unchanged: result.reservations.unchanged,
    skipped: result.reservations.skipped,
    customersCreated: result.customersCreated,
    petsCreated: result.petsCreated,
    servicesCreated: result.servicesCreated,
    durationMs: result.durationMs,
    statements: result.statements,
    vanished: result.vanished.vanished,
    moved: result.vanished.moved.length,
    cancelled: result.vanished.cancelled.length,
    withheld: result.vanished.withheld.length,
    ownersChanged: result.ownerRefresh?.changed ?? 0,
    ownersUpdated: result.ownerRefresh?.updated ?? 0,
    ownerRefreshError: result.ownerRefresh?.error ?? null,
    error: result.error ?? null,
  }
}

/**
 * The database's failures in connect.ts's sentences, naming the server: the driver's own words
 * ("write CONNECTION_CLOSED 127.0.0.1:5432" for a terminated backend) tell an operator nothing.
 */
export function describeFailure(error: unknown, sql: Sql): string {
  if (!isDbError(error)) return errorMessage(error)
  const { host, port, database } = sql.options
  // Encoded: a socket's folder (`/run/postgresql`) or an IPv6 address is a host as the URL's `%2F` form.
  return describeDbError(error, `postgres://${encodeURIComponent(host[0] ?? 'localhost')}:${port[0] ?? 5432}/${database}`)
}

/** A failure is recorded in a statement of its own, after the rollback; if even that fails, so be it. */
export async function recordFailure(sql: Sql, run: RunRecord): Promise<unknown> {
  try {
    await recordRun(sql, run)
    return undefined
  } catch (error) {
    // The connection the run lost may answer this first statement with its stale error: once more.
    if (isConnectionLost(error))
      return recordRun(sql, run).then(
        () => undefined,
        (again: unknown) => again,
      )
    // Most likely the reason the run failed too; the log and the exit code still tell, and say this.
    return error
  }
}

/** `error`, and that the run history lacks it when `unrecorded` says why. */
function withUnrecorded(error: string, unrecorded: unknown, sql: Sql): string {
  return unrecorded === undefined
    ? error
    : `${error} The failure could not be recorded in gingr_sync_runs either: ${describeFailure(unrecorded, sql)}`
}
