/**
 * The demo's PostgreSQL: an embedded, throwaway server by default; with DEMO_DATABASE_URL, that
 * server instead. Either way the demo works in a fresh database of its own, so it never touches
 * existing data, and leaves nothing behind. DATABASE_URL is deliberately not read: an operator's
 * shell may hold a production URL.
 */
import { randomBytes } from 'node:crypto'
import { connect, describeDbError, isDbError, redactUrl, type Sql } from '../db/connect.ts'
import { EmbeddedStartError, startEmbeddedPostgres } from '../dev/embedded-postgres.ts'
import { DemoFailure } from './run-cli.ts'

/** The embedded server's data directory starts with this, in the system's temporary folder. */
export const DEMO_DIR_PREFIX = 'gingr-sync-demo-'
/** Names of the demo's databases; a leftover (a killed demo) is recognisable by it. */
export const DEMO_DATABASE_PREFIX = 'gingr_sync_demo_'

export interface DemoDatabase {
  /** The demo database's URL, as DATABASE_URL for the CLI. */
  url: string
  /** A connection to it, for the demo's tenant and its checks. */
  sql: Sql
  /** Where it lives, without credentials. */
  description: string
}

/** Undo steps run last-in, first-out when the demo ends, however it ends. */
export type Defer = (undo: () => Promise<void>) => void

export async function openDemoDatabase(given: string | undefined, defer: Defer, signal?: AbortSignal): Promise<DemoDatabase> {
  if (given !== undefined && !/^postgres(ql)?:\/\/./.test(given)) throw new DemoFailure('DEMO_DATABASE_URL is not a postgres:// URL.')
  try {
    return await createDemoDatabase(given, defer, signal)
  } catch (error) {
    if (given === undefined || !isDbError(error)) throw error
    // The CLI's sentences point at DATABASE_URL; here the URL came from DEMO_DATABASE_URL.
    const sentence = describeDbError(error, given).replace(/\bDATABASE_URL\b/g, 'DEMO_DATABASE_URL')
    throw new DemoFailure(sentence.includes('DEMO_DATABASE_URL') ? sentence : `DEMO_DATABASE_URL: ${sentence}`)
  }
}

async function createDemoDatabase(given: string | undefined, defer: Defer, signal?: AbortSignal): Promise<DemoDatabase> {
  let serverUrl = given
  if (serverUrl === undefined) {
    // Registered before the start is awaited: a Ctrl-C during initdb must still stop the server
    // once it is up. A start that failed has removed its directory already.
    const starting = startEmbeddedPostgres({ prefix: DEMO_DIR_PREFIX, ...(signal ? { signal } : {}) })
    defer(() =>
      starting.then(
        (server) => server.stop(),
        () => {},
      ),
    )
    serverUrl = (
      await starting.catch((error: unknown) => {
        throw error instanceof EmbeddedStartError ? new DemoFailure(error.message) : error
      })
    ).url
  }
  const admin = connect(serverUrl, { max: 1 })
  defer(() => admin.end({ timeout: 5 }))
  const [{ version = '?' } = {}] = await admin<{ version: string }[]>`SELECT current_setting('server_version') AS version`
  const name = `${DEMO_DATABASE_PREFIX}${randomBytes(4).toString('hex')}`
  // The embedded server goes with its directory; a given server must get its database dropped.
  // Registered first: the one connection runs the drop after a CREATE still under way.
  if (given !== undefined) defer(async () => void (await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)))
  // template0 accepts no connections, so a session left open on template1 cannot block the copy.
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`)
  const url = withDatabase(serverUrl, name)
  const sql = connect(url, { max: 1 })
  defer(() => sql.end({ timeout: 5 }))
  const where =
    given === undefined
      ? `an embedded PostgreSQL ${version} (throwaway, on ${new URL(serverUrl).host})`
      : `PostgreSQL ${version} at ${redactUrl(given)} (DEMO_DATABASE_URL)`
  return { url, sql, description: `${where}, database ${name}` }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

export interface DemoTenant {
  id: string
  businessName: string
  timeZone: string
}

/** A tenant the hourly run syncs: ACTIVE, active, enabled. Prisma's way: the id is made here, `"updatedAt"` has no default. */
export async function createDemoTenant(sql: Sql, tenant: DemoTenant): Promise<void> {
  await sql`
    INSERT INTO tenants (id, "businessName", subdomain, "contactName", "contactEmail", status, "isActive",
                         gingr_sync_enabled, timezone, "updatedAt")
    VALUES (${tenant.id}, ${tenant.businessName}, 'denver-dog-ranch', 'Front Desk', 'frontdesk@denverdogranch.example',
            'ACTIVE', true, true, ${tenant.timeZone}, now() AT TIME ZONE 'UTC')`
}
