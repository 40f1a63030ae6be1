import type { Queryable } from './connect.ts'
import type { ENUMS } from './schema.ts'

export type TenantStatus = (typeof ENUMS.TenantStatus)[number]

export interface Tenant {
  id: string
  businessName: string
  /** The business's own IANA zone: it decides which calendar days the sync window covers. */
  timezone: string
  status: TenantStatus
  isActive: boolean
  syncEnabled: boolean
  /** Synced by the hourly run: SYNCED_TENANT below, computed by the database, the rule's one home. */
  enabled: boolean
  /** The last successful sync. */
  lastSyncAt: Date | null
}

/**
 * Which tenants the hourly run syncs: switched on for Gingr, and an active Tailtown customer. The
 * rule's one home; every reader gets it as `Tenant.enabled` or filters on it in SQL.
 */
const SYNCED_TENANT = `gingr_sync_enabled AND "isActive" AND status = 'ACTIVE'`

/** The rule as a condition on `tenants`' columns, for a statement that joins other tables. */
export function syncedTenant(sql: Queryable) {
  return sql.unsafe(SYNCED_TENANT)
}

/** The rule in words, for messages that say why a tenant is (not) synced. */
export const SYNCED_TENANT_RULE = 'gingr_sync_enabled, "isActive", status ACTIVE'

/** The columns, renamed once; `status` as text, since an enum column comes back as an unknown type. */
function selectTenants(sql: Queryable) {
  return sql<Tenant[]>`
    SELECT id, "businessName", timezone, status::text AS status, "isActive",
           gingr_sync_enabled AS "syncEnabled", ${syncedTenant(sql)} AS enabled, last_gingr_sync_at AS "lastSyncAt"
    FROM tenants`
}

export async function findTenant(sql: Queryable, id: string): Promise<Tenant | null> {
  const [tenant] = await sql<Tenant[]>`${selectTenants(sql)} WHERE id = ${id}`
  return tenant ?? null
}

/** Every tenant, synced or not, for `status`. */
export async function listTenants(sql: Queryable): Promise<Tenant[]> {
  return [...(await sql<Tenant[]>`${selectTenants(sql)} ORDER BY "businessName", id`)]
}

/** The tenants an hourly run syncs, in a stable order so logs read the same every hour. */
export async function listSyncableTenants(sql: Queryable): Promise<Tenant[]> {
  return [
    ...(await sql<Tenant[]>`
    ${selectTenants(sql)}
    WHERE ${syncedTenant(sql)}
    ORDER BY "businessName", id`),
  ]
}

/**
 * Records a successful sync. `now() AT TIME ZONE 'UTC'` is UTC wall time whatever the session's
 * zone; inside the tenant's transaction, `now()` is that transaction's start.
 * `"updatedAt"` has no database default and every write sets it.
 */
/** Those of `ids` that no tenant has: a config file's entry for one applies to no one. */
export async function unknownTenantIds(sql: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const known = await sql<
    { id: string }[]
  >`SELECT id FROM tenants WHERE id IN (SELECT jsonb_array_elements_text(${sql.json(ids as string[])}))`
  const found = new Set(known.map((row) => row.id))
  return ids.filter((id) => !found.has(id))
}

export async function stampTenantSynced(sql: Queryable, id: string): Promise<void> {
  await sql`
    UPDATE tenants
    SET last_gingr_sync_at = now() AT TIME ZONE 'UTC', "updatedAt" = now() AT TIME ZONE 'UTC'
    WHERE id = ${id}`
}

/** Each of `ids`'s last successful sync, whoever made it, read now. */
export async function lastSyncsOf(sql: Queryable, ids: readonly string[]): Promise<Map<string, Date | null>> {
  if (ids.length === 0) return new Map()
  const rows = await sql<{ id: string; lastSyncAt: Date | null }[]>`
    SELECT id, last_gingr_sync_at AS "lastSyncAt" FROM tenants
    WHERE id IN (SELECT jsonb_array_elements_text(${sql.json(ids as string[])}))`
  return new Map(rows.map((row) => [row.id, row.lastSyncAt]))
}
