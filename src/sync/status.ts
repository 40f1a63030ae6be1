import type { Queryable } from '../db/connect.ts'
import { lastRuns, latestRealRuns, type RunRecord } from '../db/runs.ts'
import { ownerRefreshPoints } from '../db/tenant-state.ts'
import { listTenants, type Tenant } from '../db/tenants.ts'
import { oneLine, printable } from '../text.ts'

/**
 * `gingr-sync status`: is every enabled tenant synced recently enough? The answer is meant for
 * monitoring (Nagios-style checks branch on the exit code), so "stale" is decided here, once.
 */

/** Two missed hourly runs and a half: one slow or failed run alone does not page anyone. */
export const DEFAULT_MAX_AGE_MINUTES = 150

/** What the run history says of a tenant's latest real run. */
export type LastRun = Omit<RunRecord, 'tenantId' | 'dryRun'>

export interface TenantStatusEntry {
  tenantId: string
  businessName: string
  /** Synced by the hourly job (Tenant.enabled, db/tenants.ts). */
  enabled: boolean
  /** tenants.last_gingr_sync_at: the last successful sync, whoever made it. */
  lastSyncAt: Date | null
  /** Whole minutes since lastSyncAt, rounded down; null when it never synced. */
  minutesSinceSync: number | null
  /** Enabled, and no successful sync within maxAgeMinutes (or none ever). */
  stale: boolean
  lastRun: LastRun | null
  /** The end of the last successful real `gingr-sync full` of the tenant; null if none. */
  lastFullSyncAt: Date | null
  /** The facility's day through which changed owners were last refreshed by an hourly run. */
  ownersRefreshedThrough: string | null
}

export interface StatusReport {
  /** False when a tenant is stale. */
  ok: boolean
  maxAgeMinutes: number
  tenants: TenantStatusEntry[]
}

export interface StatusOptions {
  maxAgeMinutes?: number
  now?: Date
}

/**
 * Every tenant gingr-sync has to do with: enabled ones, and any that was switched on, synced or
 * run before (a tenant switched off keeps its history in view). Tailtown's other tenants are not
 * listed: they were never Gingr customers.
 */
export async function readStatus(sql: Queryable, options: StatusOptions = {}): Promise<StatusReport> {
  const maxAgeMinutes = options.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES
  const now = options.now ?? new Date()
  // One after the other: with the database down, a second query still queued would hold the
  // pool's shutdown for its whole timeout after the first had already failed.
  const tenants = await listTenants(sql)
  const runs = await latestRealRuns(sql)
  const fullRuns = await lastRuns(sql, 'full')
  const refreshed = await ownerRefreshPoints(sql)
  const runByTenant = new Map(runs.map((run) => [run.tenantId, run]))
  const fullByTenant = new Map(fullRuns.map((runs) => [runs.tenantId, runs.latestSynced?.finishedAt ?? null]))
  const entries = tenants
    .filter((t) => t.syncEnabled || t.lastSyncAt !== null || runByTenant.has(t.id))
    .map((t) => ({
      ...statusOf(t, runByTenant.get(t.id), maxAgeMinutes, now),
      lastFullSyncAt: fullByTenant.get(t.id) ?? null,
      ownersRefreshedThrough: refreshed.get(t.id) ?? null,
    }))
  return { ok: entries.every((e) => !e.stale), maxAgeMinutes, tenants: entries }
}

function statusOf(
  tenant: Tenant,
  run: RunRecord | undefined,
  maxAgeMinutes: number,
  now: Date,
): Omit<TenantStatusEntry, 'lastFullSyncAt' | 'ownersRefreshedThrough'> {
  const { enabled } = tenant
  // A stamp a little ahead of this clock (the database's clock drifts) counts as just now.
  const ageMs = tenant.lastSyncAt === null ? null : Math.max(0, now.getTime() - tenant.lastSyncAt.getTime())
  return {
    // Names and errors come from outside (Tailtown's staff, Gingr, older versions' run rows).
    tenantId: printable(tenant.id),
    businessName: printable(tenant.businessName),
    enabled,
    lastSyncAt: tenant.lastSyncAt,
    minutesSinceSync: ageMs === null ? null : Math.floor(ageMs / 60_000),
    stale: enabled && (ageMs === null || ageMs > maxAgeMinutes * 60_000),
    lastRun: run ? lastRunOf(run) : null,
  }
}

function lastRunOf(run: RunRecord): LastRun {
  const { tenantId: _tenant, dryRun: _dryRun, ...rest } = run
  const line = (text: string | null) => (text === null ? null : oneLine(text))
  return { ...rest, error: line(rest.error), ownerRefreshError: line(rest.ownerRefreshError) }
}
