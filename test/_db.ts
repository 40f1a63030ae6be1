/**
 * Real PostgreSQL for the tests, with zero set-up: `TEST_DATABASE_URL`, else an embedded PostgreSQL
 * started in a temporary directory. `DATABASE_URL` is never read: an operator's shell may hold a
 * production URL, and the tests create and drop databases. Each test file gets a
 * database of its own; test/_setup.ts stops the server and drops what is left when the run ends.
 */
import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import { type ConnectOptions, connect, redactUrl, type Sql } from '../src/db/connect.ts'
import { migrate } from '../src/db/migrate.ts'
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts'
import { dropLeftoverDatabases } from '../src/dev/leftovers.ts'

export interface TestDatabase {
  name: string
  url: string
  sql: Sql
  /** Closes `sql` and drops the database; safe to call twice. */
  drop(): Promise<void>
}

/**
 * Not UTC, and with a daylight-saving change: a writer that leaves its session in the database's
 * default zone stores shifted timestamps, and the tests see it.
 */
export const DATABASE_TIME_ZONE = 'America/Denver'
/** Names start with the run's pid, so a later run can tell a crashed run's leftovers from live ones. */
const PREFIX = 'gingr_sync_test_'

interface Server {
  url: string
  admin: Sql
  /**
   * How CREATE DATABASE copies its template. The embedded server (PostgreSQL 18, no fsync) copies
   * files (16 ms a database against 68); a given server keeps its default, WAL_LOG since
   * PostgreSQL 15 and a syntax error before it.
   */
  strategy: string
  stop(): Promise<void>
}

let server: Promise<Server> | undefined
let shutDown = false
let shuttingDown: Promise<void> | undefined
/** Aborted by the shutdown: an embedded server still being started is killed at once. */
const starting = new AbortController()
const live = new Map<string, TestDatabase>()

function givenServerUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || undefined
}

function startServer(): Promise<Server> {
  if (shutDown) return Promise.reject(new Error('The test run is over: its database server was stopped.'))
  server ??= (async () => {
    const given = givenServerUrl()
    const started = given ? { url: given, stop: async () => {} } : await startEmbeddedPostgres({ signal: starting.signal })
    // Kept open for the whole run: it creates and drops every database, and each reconnection costs
    // a backend start.
    const admin = connect(started.url, { max: 1, idleTimeoutSeconds: 0 })
    if (given) {
      await mayCreateDatabases(admin, given)
      await dropLeftoverDatabases(admin, PREFIX)
    }
    return {
      url: started.url,
      admin,
      strategy: given ? '' : ' STRATEGY FILE_COPY',
      stop: async () => {
        await admin.end({ timeout: 5 })
        await started.stop()
      },
    }
  })()
  return server
}

/** Each test file makes a database of its own: a role that may not is said before any test runs. */
async function mayCreateDatabases(admin: Sql, url: string): Promise<void> {
  const [role] = await admin<{ allowed: boolean }[]>`
    SELECT rolsuper OR rolcreatedb AS allowed FROM pg_roles WHERE rolname = current_user`
  if (!role?.allowed) {
    throw new Error(
      `TEST_DATABASE_URL (${redactUrl(url)}) names a role that may not create databases, and each test file needs one of its own: grant it with ALTER ROLE ... CREATEDB, or unset TEST_DATABASE_URL to use an embedded PostgreSQL.`,
    )
  }
}

/** The server's own URL (its maintenance database), for tests that create or inspect databases. */
export async function serverUrl(): Promise<string> {
  return (await startServer()).url
}

export function freshDatabase(options: ConnectOptions = {}): Promise<TestDatabase> {
  // template0 accepts no connections, so a session left open on template1 cannot block the copy.
  return databaseFrom('template0', options)
}

/**
 * A new database copied from `template` (which must have no open connection), in the test time
 * zone, dropped by the run's end if the test does not drop it.
 */
async function databaseFrom(template: string, options: ConnectOptions): Promise<TestDatabase> {
  const { url: base, admin, strategy } = await startServer()
  const name = `${PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}" ENCODING 'UTF8'${strategy}`)
  // A database's own settings are not copied with it.
  await admin.unsafe(`ALTER DATABASE "${name}" SET timezone TO '${DATABASE_TIME_ZONE}'`)
  const url = withDatabase(base, name)
  const sql = connect(url, options)
  let dropped: Promise<void> | undefined
  const database: TestDatabase = {
    name,
    url,
    sql,
    drop: () => {
      dropped ??= (async () => {
        live.delete(name)
        await sql.end({ timeout: 5 })
        await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      })()
      return dropped
    },
  }
  live.set(name, database)
  return database
}

/**
 * A migrated database, copied from one migrated once per run: a copy costs a third of creating a
 * database and migrating it (64 against 260 ms here), and a run makes about fifty.
 */
export async function migratedDatabase(options: ConnectOptions = {}): Promise<TestDatabase> {
  migratedTemplate ??= (async () => {
    const template = await freshDatabase({ max: 1 })
    await migrate(template.sql)
    // No connection may stay open on a template while it is copied; the run's end drops it.
    await template.sql.end({ timeout: 5 })
    return template.name
  })()
  return databaseFrom(await migratedTemplate, options)
}
let migratedTemplate: Promise<string> | undefined

/**
 * The end of the run (or its interruption): drop what tests left behind, stop the server. Every
 * caller gets the same promise, so the last hook and a signal's handler wait for one stop.
 */
export function shutdownTestDatabases(): Promise<void> {
  shuttingDown ??= (async () => {
    shutDown = true
    // Still starting (a signal during the set-up): stop initdb or the server now, not when it is done.
    starting.abort()
    if (!server) return
    // A server that failed to start has cleaned up after itself already.
    const started = await server.catch(() => undefined)
    if (!started) return
    await Promise.allSettled([...live.values()].map((database) => database.drop()))
    await started.stop()
  })()
  return shuttingDown
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/**
 * `sql.reserve()`, made safe: postgres.js 3.4.9 never completes a reserve() that has to open a new
 * connection while `fetch_types` is off (as connect.ts sets it). A statement first leaves an open
 * connection in the pool for reserve() to take.
 */
export async function reserveConnection(sql: Sql): Promise<postgres.ReservedSql> {
  await sql`SELECT 1`
  return sql.reserve()
}
