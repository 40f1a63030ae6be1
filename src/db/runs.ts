import { hostname } from 'node:os'
import { oneLine } from '../text.ts'
import type { Queryable } from './connect.ts'

/**
 * Which job a run was: the hourly window of reservations, or the full sync of owners and animals.
 * A full run keeps its counts in the same columns: `fetched` owners and animals received,
 * `created`/`updated`/`unchanged` customers and pets together, `skipped` invalid records,
 * `customers_created`/`pets_created` as they say, `vanished` the rows Gingr no longer lists,
 * `cancelled` those deactivated, `withheld` those the guard kept active; no window.
 */
export type RunKind = 'reservations' | 'full'

/** One tenant's run, as `gingr_sync_runs` keeps it. */
export interface RunRecord {
  /** Default 'reservations': the hourly run records no kind of its own. */
  kind?: RunKind
  tenantId: string
  startedAt: Date
  finishedAt: Date
  dryRun: boolean
  status: 'synced' | 'failed'
  /** The window's facility-local calendar dates (YYYY-MM-DD); null when the run failed before it had one. */
  windowFrom: string | null
  windowTo: string | null
  fetched: number
  created: number
  updated: number
  unchanged: number
  skipped: number
  customersCreated: number
  petsCreated: number
  servicesCreated: number
  durationMs: number
  statements: number
  /** Stays Gingr no longer returned for the window, and what became of them. */
  vanished: number
  moved: number
  cancelled: number
  withheld: number
  /** The hourly owner refresh: owners Gingr listed as changed, customers updated, why it failed. */
  ownersChanged: number
  ownersUpdated: number
  ownerRefreshError: string | null
  error: string | null
  /** The host that ran it; recorded as this one's name when not given; null on older rows. */
  host?: string | null
}

export interface TenantRuns {
  tenantId: string
  latest: RunRecord
  /** The latest run that synced for real (not a dry run); null if there never was one. */
  latestSynced: RunRecord | null
}

export async function recordRun(sql: Queryable, run: RunRecord): Promise<void> {
  await sql`
    INSERT INTO gingr_sync_runs (
      kind, tenant_id, started_at, finished_at, dry_run, status, window_from, window_to,
      fetched, created, updated, unchanged, skipped, customers_created, pets_created, services_created,
      duration_ms, statements, vanished, moved, cancelled, withheld,
      owners_changed, owners_updated, owner_refresh_error, error, host)
    VALUES (
      ${run.kind ?? 'reservations'}, ${run.tenantId}, ${run.startedAt}, ${run.finishedAt}, ${run.dryRun}, ${run.status}, ${run.windowFrom}, ${run.windowTo},
      ${run.fetched}, ${run.created}, ${run.updated}, ${run.unchanged}, ${run.skipped},
      ${run.customersCreated}, ${run.petsCreated}, ${run.servicesCreated},
      ${Math.round(run.durationMs)}, ${run.statements}, ${run.vanished}, ${run.moved}, ${run.cancelled}, ${run.withheld},
      ${run.ownersChanged}, ${run.ownersUpdated}, ${run.ownerRefreshError === null ? null : oneLine(run.ownerRefreshError)},
      ${run.error === null ? null : oneLine(run.error)}, ${run.host ?? hostname()})`
}

/** The columns as RunRecord names them (not `kind`: every reader asks for one); dates as text, since they are calendar dates, not instants. */
function runColumns(sql: Queryable) {
  return sql`
    tenant_id AS "tenantId", started_at AS "startedAt", finished_at AS "finishedAt", dry_run AS "dryRun",
    status, window_from::text AS "windowFrom", window_to::text AS "windowTo",
    fetched, created, updated, unchanged, skipped, customers_created AS "customersCreated",
    pets_created AS "petsCreated", services_created AS "servicesCreated",
    duration_ms AS "durationMs", statements, vanished, moved, cancelled, withheld,
    owners_changed AS "ownersChanged", owners_updated AS "ownersUpdated", owner_refresh_error AS "ownerRefreshError", error, host`
}

/**
 * Per tenant that ever ran a job of that kind (default: the hourly run, whose history `status`
 * reports): its latest run, and its latest real successful one.
 */
export async function lastRuns(sql: Queryable, kind: RunKind = 'reservations'): Promise<TenantRuns[]> {
  // DISTINCT ON keeps the first row per tenant in ORDER BY order, the newest, as the
  // (tenant_id, started_at DESC) index serves it; `id` breaks ties between equal start times.
  const latest = await sql<RunRecord[]>`
    SELECT DISTINCT ON (tenant_id) ${runColumns(sql)} FROM gingr_sync_runs
    WHERE kind = ${kind}
    ORDER BY tenant_id, started_at DESC, id DESC`
  const synced = await sql<RunRecord[]>`
    SELECT DISTINCT ON (tenant_id) ${runColumns(sql)} FROM gingr_sync_runs
    WHERE kind = ${kind} AND status = 'synced' AND NOT dry_run
    ORDER BY tenant_id, started_at DESC, id DESC`
  const syncedByTenant = new Map(synced.map((run) => [run.tenantId, run]))
  return latest.map((run) => ({ tenantId: run.tenantId, latest: run, latestSynced: syncedByTenant.get(run.tenantId) ?? null }))
}

/**
 * Per tenant that ever ran a job of that kind for real (default: the hourly run, what `status`
 * judges staleness by): its latest run, whatever its outcome. Dry runs leave no row today, but a
 * row that says `dry_run` never stands for what the job last did.
 */
export async function latestRealRuns(sql: Queryable, kind: RunKind = 'reservations'): Promise<RunRecord[]> {
  return [
    ...(await sql<RunRecord[]>`
    SELECT DISTINCT ON (tenant_id) ${runColumns(sql)} FROM gingr_sync_runs
    WHERE kind = ${kind} AND NOT dry_run
    ORDER BY tenant_id, started_at DESC, id DESC`),
  ]
}
