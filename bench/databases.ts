/**
 * The benchmark's databases: one migrated template holding the tenant, and a fresh copy of it
 * wherever a run must start from an empty Tailtown (every "first sync" repetition, the naive way,
 * the write phase). Copying a template is a file copy, far cheaper than migrating each time.
 */
import { connect, type Queryable, type Sql } from '../src/db/connect.ts'
import { migrate } from '../src/db/migrate.ts'
import { dropLeftoverDatabases } from '../src/dev/leftovers.ts'

export const TENANT_ID = 'bench-tenant'
export const TENANT_ZONE = 'America/Denver'
/** Names carry the bench's pid, so leftovers of a killed run can be told from a live run's. */
const PREFIX = 'gingr_sync_bench_'

export interface BenchDatabase {
  name: string
  url: string
  sql: Sql
  drop(): Promise<void>
}

export interface DatabaseFactory {
  admin: Sql
  serverVersion: string
  /** An empty migrated Tailtown with the one tenant, enabled for the sync. */
  fresh(): Promise<BenchDatabase>
  close(): Promise<void>
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/** Counted for the process, not per factory: several factories may be open at once (the tests'). */
let databasesNamed = 0

export async function openDatabases(serverUrl: string): Promise<DatabaseFactory> {
  const admin = connect(serverUrl, { max: 1 })
  await dropLeftoverDatabases(admin, PREFIX)
  const [version] = await admin<{ v: string }[]>`SELECT current_setting('server_version') AS v`
  const nextName = () => `${PREFIX}${process.pid}_${databasesNamed++}`
  const template = nextName()
  await admin.unsafe(`CREATE DATABASE "${template}" TEMPLATE template0 ENCODING 'UTF8'`)
  const setup = connect(withDatabase(serverUrl, template), { max: 1 })
  try {
    await migrate(setup)
    await insertTenant(setup)
  } finally {
    // CREATE DATABASE ... TEMPLATE refuses a template that has open sessions.
    await setup.end({ timeout: 5 })
  }
  const live = new Set<BenchDatabase>()

  return {
    admin,
    serverVersion: version?.v ?? 'unknown',
    async fresh() {
      const name = nextName()
      await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)
      const url = withDatabase(serverUrl, name)
      const database: BenchDatabase = {
        name,
        url,
        sql: connect(url, { max: 1 }),
        async drop() {
          live.delete(database)
          await database.sql.end({ timeout: 5 })
          await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        },
      }
      live.add(database)
      return database
    },
    async close() {
      for (const database of [...live]) await database.drop()
      await admin.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`)
      await admin.end({ timeout: 5 })
    },
  }
}

function insertTenant(sql: Queryable) {
  return sql`
    INSERT INTO tenants (id, "businessName", subdomain, "contactName", "contactEmail", status, "isActive",
                         gingr_sync_enabled, timezone, "updatedAt")
    VALUES (${TENANT_ID}, 'Bench Boarding', 'bench', 'Front Desk', 'desk@bench.example', 'ACTIVE', true,
            true, ${TENANT_ZONE}, now() AT TIME ZONE 'UTC')`
}

const DATA_TABLES = ['customers', 'pets', 'services', 'reservations'] as const
const BOOKKEEPING_TABLES = ['tenants', 'gingr_sync_runs'] as const

export interface WrittenRows {
  /** Row versions created in the Tailtown data tables: inserts plus updates. */
  data: number
  /** The tenant's stamp and the run-history row. */
  bookkeeping: number
}

/**
 * Row versions written since `mark` are those whose xmin is a transaction at or after it: an
 * insert or an update leaves such a version, an untouched row keeps its old xmin. Read from the
 * tables themselves, this needs none of the statistics collector's delays.
 */
export async function writeMark(sql: Sql): Promise<bigint> {
  // The next transaction id to be assigned; reading it assigns none.
  const [row] = await sql<{ next: string }[]>`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next`
  return BigInt(row?.next ?? '0')
}

export async function rowsWrittenSince(sql: Sql, mark: bigint): Promise<WrittenRows> {
  // xmin is the 32-bit form of the 64-bit id: compare within the same epoch (a fresh database's).
  const low = Number(mark % 4294967296n)
  const count = async (tables: readonly string[]) => {
    let total = 0
    for (const table of tables) {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM ${sql(table)} WHERE xmin::text::bigint >= ${low}`
      total += row?.n ?? 0
    }
    return total
  }
  return { data: await count(DATA_TABLES), bookkeeping: await count(BOOKKEEPING_TABLES) }
}

/** Empties the data tables, for a repetition that must start from nothing again. */
export async function emptyDataTables(sql: Sql): Promise<void> {
  await sql`TRUNCATE reservations, pets, customers, services, gingr_sync_runs`
}

/**
 * pg_stat_statements, when the server preloads it, counts every statement the binary's process
 * sent to one database, independently of the binary's own count. Absent (the embedded server
 * does not preload it), the cross-check is skipped rather than fought for.
 */
export interface StatementAudit {
  reset(database: string): Promise<void>
  calls(database: string): Promise<number>
}

export async function statementAudit(admin: Sql): Promise<StatementAudit | null> {
  try {
    const [row] = await admin<{ libs: string }[]>`SELECT current_setting('shared_preload_libraries') AS libs`
    if (!row?.libs.includes('pg_stat_statements')) return null
    await admin`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`
    await admin`SELECT count(*) FROM pg_stat_statements`
  } catch {
    return null
  }
  const oid = async (database: string) =>
    (await admin<{ oid: number }[]>`SELECT oid::int FROM pg_database WHERE datname = ${database}`)[0]?.oid ?? 0
  return {
    async reset(database) {
      await admin`SELECT pg_stat_statements_reset(0, ${await oid(database)}::oid, 0)`
    },
    async calls(database) {
      const [row] = await admin<{ n: number }[]>`
        SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE dbid = ${await oid(database)}::oid`
      return row?.n ?? 0
    },
  }
}
