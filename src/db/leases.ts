/**
 * Several hosts run the same hourly job against one database: each tenant is claimed before its
 * Gingr fetch, by a lease in gingr-sync's own table (gingr_sync_tenants), so that no two hosts
 * fetch the same tenant. Every statement here is a transaction of its own and no session state
 * outlives it (no session advisory lock, no prepared-across-transactions state of ours): it works
 * behind PgBouncer in transaction mode. A host that dies holds its tenants until their lease runs
 * out; a live one renews the leases of the tenants it is working on.
 */
import type { Queryable } from './connect.ts'
import { syncedTenant } from './tenants.ts'

export interface ClaimOptions {
  /** Who claims: one run of one host (`host:pid`). */
  owner: string
  /** The tenants this run may take, as it listed them. */
  tenantIds: readonly string[]
  leaseMs: number
  /** A tenant synced successfully less than this ago is not taken. */
  minIntervalMs: number
  /** When this run began, by the database's clock: a tenant claimed since then is not taken again. */
  roundStartedAt: Date
}

/** The database's clock: every host's claims are compared against one clock. */
export async function databaseNow(sql: Queryable): Promise<Date> {
  const [row] = await sql<{ now: Date }[]>`SELECT now() AS now`
  return row?.now ?? new Date()
}

/** Every listed tenant gets its row of gingr-sync's state (hosts racing to add one are fine). */
export async function ensureStateRows(sql: Queryable, tenantIds: readonly string[]): Promise<void> {
  if (tenantIds.length === 0) return
  await sql`
    INSERT INTO gingr_sync_tenants (tenant_id)
    SELECT jsonb_array_elements_text(${sql.json(tenantIds as string[])})
    ON CONFLICT (tenant_id) DO NOTHING`
}

/**
 * Takes the next tenant no one holds, still enabled, neither synced nor failed within the minimum
 * interval, and not claimed since this run began; null when none is left. A tenant whose claim
 * ended with its host (killed) has neither outcome: the next run takes it once the lease is out. `SKIP LOCKED` lets hosts claiming at
 * the same instant pass each other's row instead of waiting, and re-reading the row it locks
 * (READ COMMITTED's re-check) means a tenant claimed a moment ago is never taken twice.
 */
export async function claimNextTenant(sql: Queryable, options: ClaimOptions): Promise<string | null> {
  const [row] = await sql<{ tenantId: string }[]>`
    WITH next AS (
      SELECT s.tenant_id FROM gingr_sync_tenants s JOIN tenants t ON t.id = s.tenant_id
      WHERE s.tenant_id IN (SELECT jsonb_array_elements_text(${sql.json(options.tenantIds as string[])}))
        AND ${syncedTenant(sql)}
        AND (s.lease_until IS NULL OR s.lease_until <= now())
        AND (s.claimed_at IS NULL OR s.claimed_at < ${options.roundStartedAt})
        AND (t.last_gingr_sync_at IS NULL
             OR t.last_gingr_sync_at <= (now() AT TIME ZONE 'UTC') - ${options.minIntervalMs / 1000}::float8 * interval '1 second')
        AND (s.last_failed_at IS NULL OR s.last_failed_at <= now() - ${options.minIntervalMs / 1000}::float8 * interval '1 second')
      -- The longest unsynced first: a failed tenant leads the next run, and each tenant comes up
      -- about an hour after its last sync, whatever the length of the runs before it.
      ORDER BY t.last_gingr_sync_at NULLS FIRST, t."businessName", t.id
      LIMIT 1
      FOR UPDATE OF s SKIP LOCKED)
    UPDATE gingr_sync_tenants s
    SET lease_owner = ${options.owner}, lease_until = now() + ${options.leaseMs / 1000}::float8 * interval '1 second', claimed_at = now()
    FROM next WHERE s.tenant_id = next.tenant_id
    RETURNING s.tenant_id AS "tenantId"`
  return row?.tenantId ?? null
}

/** The owner is still at work on these tenants: their leases run `leaseMs` from now. */
export async function renewLeases(sql: Queryable, owner: string, tenantIds: readonly string[], leaseMs: number): Promise<void> {
  if (tenantIds.length === 0) return
  await sql`
    UPDATE gingr_sync_tenants SET lease_until = now() + ${leaseMs / 1000}::float8 * interval '1 second'
    WHERE lease_owner = ${owner} AND tenant_id IN (SELECT jsonb_array_elements_text(${sql.json(tenantIds as string[])}))`
}

/**
 * The owner is done with the tenant: another run may take it, once the minimum interval has passed
 * since its success (the tenant's stamp) or its failure (recorded here). Released after the
 * tenant's own commit, so that a tenant is never both free and unstamped after a success. A tenant
 * `stopped` (a signal, the run's deadline) neither failed nor synced: free at once, its last
 * failure left as it was.
 */
export async function releaseLease(sql: Queryable, owner: string, tenantId: string, outcome: 'done' | 'failed' | 'stopped'): Promise<void> {
  const lastFailedAt = outcome === 'failed' ? sql`now()` : outcome === 'done' ? sql`NULL` : sql`last_failed_at`
  await sql`
    UPDATE gingr_sync_tenants SET lease_owner = NULL, lease_until = NULL, last_failed_at = ${lastFailedAt}
    WHERE tenant_id = ${tenantId} AND lease_owner = ${owner}`
}

/** The owners holding a lease that has not run out, among those whose name starts with `prefix`. */
export async function leaseOwners(sql: Queryable, prefix: string): Promise<string[]> {
  const rows = await sql<{ owner: string }[]>`
    SELECT DISTINCT lease_owner AS owner FROM gingr_sync_tenants
    WHERE left(lease_owner, length(${prefix})) = ${prefix} AND lease_until > now()`
  return rows.map((row) => row.owner)
}

/** Every lease of the owner, at once (a run that stops, or one found dead). */
export async function releaseLeases(sql: Queryable, owner: string): Promise<void> {
  await sql`UPDATE gingr_sync_tenants SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ${owner}`
}
