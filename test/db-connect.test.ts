/**
 * The connection: UTC both ways whatever the process's and the database's zone, the URL never
 * shown with its password, and database failures told as one sentence.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type AddressInfo, createServer, type Server } from 'node:net'
import postgres from 'postgres'
import { connect, DatabaseFailure, describeDbError, explainDbFailure, isDbError, redactUrl, type Sql } from '../src/db/connect.ts'
import { migrate } from '../src/db/migrate.ts'
import { inTransaction } from '../src/db/transaction.ts'
import { parseDatabaseUrl } from '../src/db/url.ts'
import type { EmbeddedServer } from '../src/dev/embedded-postgres.ts'
import { DATABASE_TIME_ZONE, freshDatabase, serverUrl, type TestDatabase, withDatabase } from './_db.ts'
import { passwordCheckingServer, serverWithoutSsl } from './_servers.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const PASSWORD = 'Sup3r-Secret-pw'
let db: TestDatabase
const processZone = process.env.TZ

beforeAll(async () => {
  db = await freshDatabase()
  await db.sql`CREATE TABLE stamps (label text PRIMARY KEY, at timestamp(3) without time zone NOT NULL)`
  // bun test runs in UTC by default; the cron host may not. A zone-less timestamp parsed as local
  // time would move by 6 or 7 hours here.
  process.env.TZ = 'America/Denver'
})
afterAll(async () => {
  process.env.TZ = processZone
  await db?.drop()
})

describe('UTC round trip of timestamp(3) without time zone', () => {
  // Either side of Denver's switch to summer time (2024-03-10 09:00 UTC), and a winter value.
  const cases = [
    { label: 'winter', at: new Date('2024-01-15T23:30:00.123Z'), wall: '2024-01-15 23:30:00.123' },
    { label: 'before DST', at: new Date('2024-03-10T08:59:59.999Z'), wall: '2024-03-10 08:59:59.999' },
    { label: 'after DST', at: new Date('2024-03-10T09:00:00.000Z'), wall: '2024-03-10 09:00:00' },
    { label: 'summer', at: new Date('2024-07-04T05:15:00.500Z'), wall: '2024-07-04 05:15:00.5' },
  ]

  test('the conditions are the hostile ones: process and database default zones are not UTC', async () => {
    expect(new Date(2024, 6, 1).getTimezoneOffset()).toBe(360)
    const raw = postgres(db.url, { max: 1, onnotice: () => {} })
    try {
      const [row] = await raw<{ zone: string }[]>`SELECT current_setting('TimeZone') AS zone`
      expect(row?.zone).toBe(DATABASE_TIME_ZONE)
    } finally {
      await raw.end()
    }
    const [session] = await db.sql<{ zone: string }[]>`SELECT current_setting('TimeZone') AS zone`
    expect(session?.zone).toBe('UTC')
  })

  test.each(cases)('$label: a Date is stored as its UTC wall time and read back unchanged', async ({ label, at, wall }) => {
    await db.sql`INSERT INTO stamps (label, at) VALUES (${label}, ${at})`
    const [row] = await db.sql<{ at: Date; wall: string }[]>`
      SELECT at, at::text AS wall FROM stamps WHERE label = ${label}`
    expect(row?.wall).toBe(wall)
    expect(row?.at).toBeInstanceOf(Date)
    expect(row?.at.toISOString()).toBe(at.toISOString())
  })

  test('without the UTC parser, the driver would read the same value 6 hours off', async () => {
    const raw = postgres(db.url, { max: 1, onnotice: () => {}, connection: { TimeZone: 'UTC' } })
    try {
      const [row] = await raw<{ at: Date }[]>`SELECT at FROM stamps WHERE label = 'summer'`
      expect(row?.at.getTime()).not.toBe(new Date('2024-07-04T05:15:00.500Z').getTime())
    } finally {
      await raw.end()
    }
  })

  test('a value written by SQL in UTC wall time reads as the instant it names', async () => {
    const [row] = await db.sql<{ at: Date }[]>`SELECT '2024-11-03 08:00:00.250'::timestamp(3) AS at`
    expect(row?.at.toISOString()).toBe('2024-11-03T08:00:00.250Z')
  })
})

describe('connection options', () => {
  test('every statement is reported to onQuery, and only those', async () => {
    const seen: string[] = []
    const sql = connect(db.url, { onQuery: (query) => seen.push(query) })
    try {
      await sql`SELECT 1`
      await sql`SELECT ${'two'}::text`
      await sql.begin(async (tx) => tx`SELECT 3`)
      expect(seen.filter((query) => /SELECT/.test(query))).toEqual(['SELECT 1', 'SELECT $1::text', 'SELECT 3'])
      expect(seen.filter((query) => !/^(SELECT|begin|commit)/i.test(query))).toEqual([])
    } finally {
      await sql.end()
    }
  })

  test('statementTimeoutMs and the application name reach the session', async () => {
    const sql = connect(db.url, { statementTimeoutMs: 1500 })
    try {
      const [row] = await sql<{ timeout: string; app: string }[]>`
        SELECT current_setting('statement_timeout') AS timeout, current_setting('application_name') AS app`
      expect(row).toEqual({ timeout: '1500ms', app: 'gingr-sync' })
    } finally {
      await sql.end()
    }
  })

  test("Prisma's URL parameters are understood or left out, not sent to PostgreSQL", async () => {
    const sql = connect(`${db.url}?schema=public&connection_limit=5&pool_timeout=10`)
    try {
      const [row] = await sql<{ schema: string }[]>`SELECT current_schema() AS schema`
      expect(row?.schema).toBe('public')
    } finally {
      await sql.end()
    }
  })
})

/**
 * The DATABASE_URL forms Tailtown's operators have (Prisma's, libpq's), each connecting to the real
 * server: the session shows which database, schema and kind of connection it got (a Unix socket
 * has no server address). The socket is the server's own (this machine's /var/run/postgresql, or
 * the embedded server's folder), read from the server itself.
 */
describe("DATABASE_URL's forms connect", () => {
  let socketDir: string
  let port: number
  let credentials: string
  beforeAll(async () => {
    await db.sql.unsafe('CREATE SCHEMA "Tailtown App"')
    const [row] = await db.sql<{ dir: string }[]>`SELECT trim(split_part(current_setting('unix_socket_directories'), ',', 1)) AS dir`
    socketDir = row?.dir ?? ''
    const url = new URL(db.url)
    port = Number(url.port || 5432)
    credentials = url.password ? `${url.username}:${url.password}@` : `${url.username}@`
  })

  const forms: { name: string; url: () => string; schema?: string; socket: boolean }[] = [
    {
      name: 'Prisma: ?schema= names a schema (quoted as written)',
      url: () => `${db.url}?schema=Tailtown%20App&connection_limit=3`,
      schema: 'Tailtown App',
      socket: false,
    },
    {
      name: 'Prisma and libpq: a socket as ?host=',
      url: () => `postgresql://${credentials}localhost:${port}/${db.name}?host=${socketDir}`,
      socket: true,
    },
    {
      name: 'libpq: a %2F-encoded socket host',
      url: () => `postgres://${credentials}${encodeURIComponent(socketDir)}:${port}/${db.name}`,
      socket: true,
    },
    {
      name: 'a socket with sslmode=require: no SSL on a socket, as libpq',
      url: () => `postgres://${credentials}localhost:${port}/${db.name}?host=${socketDir}&sslmode=require`,
      socket: true,
    },
    { name: 'sslmode=prefer against a server without SSL falls back to plain', url: () => `${db.url}?sslmode=prefer`, socket: false },
    {
      name: "libpq's dbname and port as parameters",
      url: () => `postgres://${credentials}127.0.0.1/?dbname=${db.name}&port=${port}`,
      socket: false,
    },
  ]

  test.each(forms)('$name', async ({ url, schema, socket }) => {
    const sql = connect(url(), { max: 1 })
    try {
      const [row] = await sql<{ database: string; schema: string; socket: boolean; zone: string }[]>`
        SELECT current_database() AS database, current_schema() AS schema, inet_server_addr() IS NULL AS socket,
               current_setting('TimeZone') AS zone`
      expect(row).toEqual({ database: db.name, schema: schema ?? 'public', socket, zone: 'UTC' })
    } finally {
      await sql.end()
    }
  })

  test("the URL's session settings still reach PostgreSQL; they do not beat UTC or the statement timeout given", async () => {
    const query = 'options=-c%20work_mem%3D5MB&application_name=tailtown-api&TimeZone=America/Denver&statement_timeout=1000'
    const sql = connect(`${db.url}?${query}`, { max: 1, statementTimeoutMs: 2500 })
    try {
      const [row] = await sql<{ mem: string; app: string; zone: string; timeout: string }[]>`
        SELECT current_setting('work_mem') AS mem, current_setting('application_name') AS app,
               current_setting('TimeZone') AS zone, current_setting('statement_timeout') AS timeout`
      expect(row).toEqual({ mem: '5MB', app: 'tailtown-api', zone: 'UTC', timeout: '2500ms' })
    } finally {
      await sql.end()
    }
  })
})

describe('redactUrl', () => {
  test.each([
    ['postgres://gingr:s3cret@db.example:5432/tailtown', 'postgres://gingr:***@db.example:5432/tailtown'],
    ['postgresql://gingr:p%40ss%2Fw@db:5432/t?sslmode=require', 'postgresql://gingr:***@db:5432/t?sslmode=require'],
    ['postgres://gingr:p@ss/w@db:5432/t', 'postgres://gingr:***@db:5432/t'],
    ['postgres://:only-password@db/t', 'postgres://:***@db/t'],
    ['postgres://gingr@db:5432/t', 'postgres://gingr@db:5432/t'],
    ['postgres://db:5432/t?user=gingr&password=s3cret&sslmode=require', 'postgres://db:5432/t?user=gingr&password=***&sslmode=require'],
    ['postgres://gingr:s3cret@h1:5432,h2:5433/t', 'postgres://gingr:***@h1:5432,h2:5433/t'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected)
  })
})

describe('describeDbError', () => {
  let admin: Sql
  let silent: Server
  /** A role that may log in but never gets a connection slot: PostgreSQL's 53300. */
  const FULL_ROLE = `gingr_sync_test_full_${process.pid}`
  beforeAll(async () => {
    admin = connect(await serverUrl(), { max: 2 })
    silent = createServer(() => {}).listen(0, '127.0.0.1')
    await admin.unsafe(`CREATE ROLE "${FULL_ROLE}" LOGIN CONNECTION LIMIT 0 PASSWORD '${PASSWORD}'`)
  })
  afterAll(async () => {
    await admin?.unsafe(`DROP ROLE IF EXISTS "${FULL_ROLE}"`)
    await admin?.end()
    silent?.close()
  })

  /** The URL with a password in it: the server's own if it checks one, else ours (trust ignores it). */
  function withPassword(url: string): string {
    const parsed = new URL(url)
    parsed.password ||= PASSWORD
    return parsed.toString()
  }

  async function failure(url: string, run: (sql: Sql) => Promise<unknown>, options = {}): Promise<unknown> {
    const sql = connect(url, { connectTimeoutSeconds: 2, ...options })
    try {
      await run(sql)
    } catch (error) {
      return error
    } finally {
      // Short: only the failed work is left, and a terminated backend's transaction never ends on
      // its own, so any grace period is waited out. Not 0: begin() still writes its ROLLBACK from
      // setImmediate, and a pool destroyed before that writes to a null socket (transaction.ts).
      // At once: only the failed work is left, and a terminated backend's transaction never ends
      // on its own (src/db/transaction.ts), so any grace period would be waited out.
      await sql.end({ timeout: 0 })
    }
    throw new Error('expected a failure')
  }

  const cases: { name: string; error: () => Promise<{ error: unknown; url: string }>; says: RegExp }[] = [
    {
      name: 'connection refused',
      says: /refused the connection/,
      error: async () => {
        const url = `postgres://gingr:${PASSWORD}@127.0.0.1:${await closedPort()}/tailtown`
        return { url, error: await failure(url, (sql) => sql`SELECT 1`) }
      },
    },
    {
      name: 'database missing',
      says: /has no such database .*gingr_sync_no_such_db/,
      error: async () => {
        const url = withPassword(withDatabase(await serverUrl(), 'gingr_sync_no_such_db'))
        return { url, error: await failure(url, (sql) => sql`SELECT 1`) }
      },
    },
    {
      name: 'connect timeout',
      says: /did not answer within the connect timeout/,
      error: async () => {
        const url = `postgres://gingr:${PASSWORD}@127.0.0.1:${(silent.address() as AddressInfo).port}/tailtown`
        return { url, error: await failure(url, (sql) => sql`SELECT 1`, { connectTimeoutSeconds: 0.3 }) }
      },
    },
    {
      name: 'statement timeout',
      says: /longer than the statement timeout/,
      error: async () => {
        const url = withPassword(db.url)
        return { url, error: await failure(url, (sql) => sql`SELECT pg_sleep(5)`, { statementTimeoutMs: 50 }) }
      },
    },
    {
      name: 'terminated connection',
      says: /was terminated/,
      error: async () => {
        const url = withPassword(db.url)
        const error = await failure(
          url,
          async (sql) => {
            const [{ pid }] = await sql<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`
            // Through inTransaction, as the sync runs: a bare sql.begin() writes its ROLLBACK to the
            // dead socket from a timer, an uncaught TypeError that failed this test now and then.
            await inTransaction(sql, async (tx) => {
              await admin`SELECT pg_terminate_backend(${pid})`
              await tx`SELECT 1`
            })
          },
          { max: 1 },
        )
        return { url, error }
      },
    },
    {
      name: 'no schema (a database never migrated)',
      says: /^The schema is missing in PostgreSQL at .+ \(relation "tenants" does not exist\): run `gingr-sync migrate`\.$/,
      error: async () => {
        const url = withPassword(db.url)
        return { url, error: await failure(url, (sql) => sql`SELECT id FROM tenants`) }
      },
    },
    {
      name: 'no free connection slots',
      says: /has no free connection slots \(too many connections\)\.$/,
      error: async () => {
        const url = new URL(await serverUrl())
        url.username = FULL_ROLE
        url.password = PASSWORD
        return { url: url.toString(), error: await failure(url.toString(), (sql) => sql`SELECT 1`) }
      },
    },
    {
      name: 'a URL parameter that is no PostgreSQL setting',
      says: /has no setting "statement_timout": remove \?statement_timout= from DATABASE_URL\.$/,
      error: async () => {
        const url = `${withPassword(db.url)}?statement_timout=5000`
        return { url, error: await failure(url, (sql) => sql`SELECT 1`) }
      },
    },
  ]

  test.each(cases)('$name: one sentence naming the server, never the password', async ({ error: make, says }) => {
    const { error, url } = await make()
    const password = decodeURIComponent(new URL(url).password)
    expect(password.length).toBeGreaterThan(0)
    expect(isDbError(error)).toBe(true)
    for (const sentence of [describeDbError(error, url), describeDbError(error)]) {
      expect(sentence).toMatch(says)
      expect(sentence).not.toContain(password)
      expect(sentence).not.toContain('\n')
    }
    expect(describeDbError(error, url)).toContain(` ${parseDatabaseUrl(url).server}`)
    // What the commands print: the same sentence, the server asked nothing more of.
    const explained = await explainDbFailure(error, url)
    expect(explained).toBeInstanceOf(DatabaseFailure)
    expect((explained as Error).message).toBe(describeDbError(error, url))
  })

  describe('a wrong password, on a server that checks it', () => {
    let server: EmbeddedServer
    beforeAll(async () => {
      server = await passwordCheckingServer()
    })
    afterAll(async () => {
      await server?.stop()
    })

    test('refused, said with the server named, the wrong password never shown', async () => {
      const url = new URL(server.url)
      url.password = 'wrong-password-1234'
      const error = await failure(url.toString(), (sql) => sql`SELECT 1`)
      const sentence = describeDbError(error, url.toString())
      expect(sentence).toMatch(
        /^PostgreSQL at 127\.0\.0\.1:\d+\/postgres rejected the login \(.*password authentication failed.*\): check the user and password in DATABASE_URL\.$/,
      )
      expect(sentence).not.toContain('wrong-password-1234')
    })
  })

  describe('SSL asked of a server without it', () => {
    let server: EmbeddedServer
    beforeAll(async () => {
      server = await serverWithoutSsl()
    })
    afterAll(async () => {
      await server?.stop()
    })

    test.each(['require', 'verify-ca', 'verify-full'])('sslmode=%s: the server is asked, and the answer said', async (mode) => {
      const url = `${withPassword(server.url)}?sslmode=${mode}`
      const { server: named } = parseDatabaseUrl(url)
      const error = await failure(url, (sql) => sql`SELECT 1`)
      // Before the server is asked (a tenant's run, which cannot wait on it): the handshake, not a restart.
      expect(describeDbError(error, url)).toBe(
        `PostgreSQL at ${named} ended the connection during the SSL handshake that DATABASE_URL asks for (sslmode=${mode}): does the server accept SSL connections?`,
      )
      const explained = await explainDbFailure(error, url)
      expect((explained as Error).message).toBe(
        `PostgreSQL at ${named} does not accept SSL connections, but DATABASE_URL asks for sslmode=${mode}: enable SSL on the server, or set sslmode=prefer (SSL when the server offers it) or sslmode=disable.`,
      )
    })
  })

  describe("a ?schema= that names no schema (Prisma's form)", () => {
    test('reading a table: the schema is named, not "run migrate", which could not help', async () => {
      const url = `${withPassword(db.url)}?schema=tailtown_typo`
      const sql = connect(url, { max: 1 })
      try {
        const error = await sql`SELECT id FROM tenants`.then(
          () => undefined,
          (e: unknown) => e,
        )
        const explained = await explainDbFailure(error, url, sql)
        expect((explained as Error).message).toBe(
          `PostgreSQL at ${parseDatabaseUrl(url).server} has no schema "tailtown_typo" (?schema= in DATABASE_URL): check its name, or create it (CREATE SCHEMA).`,
        )
      } finally {
        await sql.end()
      }
    })

    test('migrate creates nothing in it and says the same', async () => {
      const url = `${withPassword(db.url)}?schema=tailtown_typo`
      const sql = connect(url, { max: 1 })
      try {
        const error = await migrate(sql).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect((error as { code?: string }).code).toBe('3F000')
        expect(((await explainDbFailure(error, url, sql)) as Error).message).toMatch(
          /has no schema "tailtown_typo" \(\?schema= in DATABASE_URL\)/,
        )
      } finally {
        await sql.end()
      }
      const [created] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tailtown_typo'`
      expect(created?.n).toBe(0)
    })
  })

  test('an error that is not the database is not described as one', () => {
    expect(isDbError(new Error('Gingr said no'))).toBe(false)
    expect(isDbError('plain text')).toBe(false)
  })
})

/** A port nothing listens on: taken from the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
