import type { Queryable } from './connect.ts'

/**
 * gingr-sync's own memory of a tenant (`gingr_sync_tenants`), never Tailtown's columns.
 * Dates are the facility's calendar days, as text.
 */

/** The day through which changed owners were last refreshed successfully; null before the first. */
export async function ownersRefreshedThrough(sql: Queryable, tenantId: string): Promise<string | null> {
  const [row] = await sql<{ through: string | null }[]>`
    SELECT owners_refreshed_through::text AS through FROM gingr_sync_tenants WHERE tenant_id = ${tenantId}`
  return row?.through ?? null
}

/** Inside the run's transaction: the refresh reached `day`, so the next one starts there. */
export async function markOwnersRefreshed(sql: Queryable, tenantId: string, day: string): Promise<void> {
  await sql`
    INSERT INTO gingr_sync_tenants (tenant_id, owners_refreshed_through) VALUES (${tenantId}, ${day})
    ON CONFLICT (tenant_id) DO UPDATE SET owners_refreshed_through = EXCLUDED.owners_refreshed_through`
}

/** Every tenant's refresh point, for `status`. */
export async function ownerRefreshPoints(sql: Queryable): Promise<Map<string, string>> {
  const rows = await sql<{ tenantId: string; through: string }[]>`
    SELECT tenant_id AS "tenantId", owners_refreshed_through::text AS through
    FROM gingr_sync_tenants WHERE owners_refreshed_through IS NOT NULL`
  return new Map(rows.map((row) => [row.tenantId, row.through]))
}
