/**
 * Reservations a complete fetch of the window no longer holds: rows of the tenant whose stay
 * overlaps the window, not cancelled already, that Gingr did not return. Whether each moved or
 * was deleted is for the caller to find out (in Gingr); here are the two statements around it.
 */
import type { Queryable, TransactionSql } from './connect.ts'

/** A stored stay Gingr did not return for the window, with the Gingr ids to look it up by. */
export interface UnseenStay {
  externalId: string
  /** The pet's `"externalId"`: the Gingr animal id, or the legacy `<id>-tailtown`. */
  petExternalId: string | null
  customerExternalId: string | null
  startDate: Date
  endDate: Date
  status: string
}

export interface WindowBounds {
  /** The window's first instant (its first day, 00:00 in the tenant's zone). */
  from: Date
  /** The instant after its last day. */
  to: Date
}

/**
 * One statement: how many of the tenant's stays overlap the window and are not cancelled
 * (what the mass-cancellation guard measures against), and those of them not in `seen`.
 * Tailtown's overlap rule, on UTC wall time: `"startDate" < to AND "endDate" > from`.
 */
export async function unseenStays(
  sql: Queryable,
  tenantId: string,
  bounds: WindowBounds,
  seen: readonly string[],
): Promise<{ active: number; unseen: UnseenStay[] }> {
  const [row] = await sql<{ active: number; unseen: UnseenStay[] }[]>`
    WITH stays AS (
      SELECT r."externalId", r."startDate", r."endDate", r.status::text AS status,
             p."externalId" AS "petExternalId", c."externalId" AS "customerExternalId"
      FROM reservations r
      LEFT JOIN pets p ON p.id = r."petId"
      LEFT JOIN customers c ON c.id = r."customerId"
      WHERE r."tenantId" = ${tenantId} AND r."externalId" IS NOT NULL AND r.status <> 'CANCELLED'
        AND r."startDate" < (${bounds.to.toISOString()}::timestamptz AT TIME ZONE 'UTC')
        AND r."endDate" > (${bounds.from.toISOString()}::timestamptz AT TIME ZONE 'UTC')
    )
    SELECT (SELECT count(*)::int FROM stays) AS active,
      coalesce((
        SELECT json_agg(json_build_object(
          'externalId', s."externalId", 'petExternalId', s."petExternalId", 'customerExternalId', s."customerExternalId",
          -- UTC wall time, read back as the instant it stands for.
          'startDate', to_char(s."startDate", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'endDate', to_char(s."endDate", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'status', s.status) ORDER BY s."externalId")
        FROM stays s
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(${sql.json(seen as string[])}) AS seen(id) WHERE seen.id = s."externalId")
      ), '[]') AS unseen`
  const unseen = (row?.unseen ?? []).map((stay) => ({ ...stay, startDate: new Date(stay.startDate), endDate: new Date(stay.endDate) }))
  return { active: row?.active ?? 0, unseen }
}

/**
 * Marks the stays deleted in Gingr as cancelled, keeping the rows (invoices, payments and
 * check-ins may point at them) and a cancel date they already had. One statement; a stay Gingr
 * returns again later gets its real status back from the next sync's ordinary update.
 */
export async function cancelStays(tx: TransactionSql, tenantId: string, externalIds: readonly string[]): Promise<string[]> {
  if (externalIds.length === 0) return []
  const rows = await tx<{ externalId: string }[]>`
    UPDATE reservations SET status = 'CANCELLED',
      "cancelDate" = coalesce("cancelDate", now() AT TIME ZONE 'UTC'), "updatedAt" = now() AT TIME ZONE 'UTC'
    WHERE "tenantId" = ${tenantId} AND status <> 'CANCELLED'
      AND "externalId" IN (SELECT jsonb_array_elements_text(${tx.json(externalIds as string[])}))
    RETURNING "externalId"`
  return [...new Set(rows.map((row) => row.externalId))].sort()
}
