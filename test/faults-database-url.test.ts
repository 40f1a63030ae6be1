/**
 * The fault matrix, DATABASE_URL (RELIABILITY.md): the compiled binary, as cron runs it, with the
 * URLs Tailtown's operators have and the ways they go wrong. A URL that cannot be right is exit 2
 * before anything connects; a server that refuses is exit 1 with one sentence that names it
 * (host:port/database, never the password) and says what to do; Prisma's forms simply work. Every
 * failing case proves that nothing was done: Gingr never asked, no row written, no run recorded.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect } from '../src/db/connect.ts'
import type { EmbeddedServer } from '../src/dev/embedded-postgres.ts'
import type { RunResult } from './_binary.ts'
import { freshDatabase, serverUrl, type TestDatabase } from './_db.ts'
import { type Bed, differences, gingrSync, snapshot, startBed, stopBed } from './_faults.ts'
import { passwordCheckingServer, serverWithoutSsl } from './_servers.ts'
import { testDir } from './_tmp.ts'

const TENANT = 'fault-url'
/** The password of the URLs that are refused for their form: no output may hold any piece of it. */
const BAD_PASSWORD = 'Pw-Url-Matrix-Q7'
/** A login role that never gets a connection slot (CONNECTION LIMIT 0): PostgreSQL's 53300. */
const FULL_ROLE = `gingr_sync_test_url_${process.pid}`
const dir = testDir('faults-url')

setDefaultTimeout(60_000)

let bed: Bed
let bare: TestDatabase
let passwords: EmbeddedServer
let plain: EmbeddedServer
let socketDir: string

beforeAll(async () => {
  bed = await startBed(TENANT)
  bare = await freshDatabase()
  passwords = await passwordCheckingServer()
  plain = await serverWithoutSsl()
  const [row] = await bed.db.sql<{ dir: string }[]>`SELECT trim(split_part(current_setting('unix_socket_directories'), ',', 1)) AS dir`
  socketDir = row?.dir ?? ''
  const admin = connect(await serverUrl(), { max: 1 })
  await admin.unsafe(`CREATE ROLE "${FULL_ROLE}" LOGIN CONNECTION LIMIT 0 PASSWORD '${BAD_PASSWORD}'`).finally(() => admin.end())
})
afterAll(async () => {
  const admin = connect(await serverUrl(), { max: 1 })
  await admin.unsafe(`DROP ROLE IF EXISTS "${FULL_ROLE}"`).finally(() => admin.end())
  await passwords?.stop()
  await plain?.stop()
  await bare?.drop()
  await stopBed(bed)
})

/** The bed's URL with its parts changed. */
function url(change: (u: URL) => void, base = bed.env.DATABASE_URL!): string {
  const u = new URL(base)
  change(u)
  return u.toString()
}

/** The bed's URL with the query appended. */
const withQuery = (query: string, base = bed.env.DATABASE_URL!) => `${base}${base.includes('?') ? '&' : '?'}${query}`

/** host:port/database, as every sentence names the server. */
function serverOf(text: string): string {
  const u = new URL(text)
  return `${u.hostname}:${u.port || 5432}${u.pathname}`
}

/** The bed's credentials and port, at `host` given as `?host=` or `%2F`-encoded. */
function socketUrl(form: 'param' | 'encoded'): string {
  const u = new URL(bed.env.DATABASE_URL!)
  const credentials = `${u.username}:${u.password}@`
  const port = u.port || '5432'
  return form === 'param'
    ? `postgresql://${credentials}localhost:${port}${u.pathname}?host=${socketDir}`
    : `postgres://${credentials}${encodeURIComponent(socketDir)}:${port}${u.pathname}`
}

/** Runs the binary, then proves nothing was done: Gingr not asked, the tenant's rows and the history as they were. */
async function nothingDone(run: () => Promise<RunResult>): Promise<RunResult> {
  bed.sim.account.addReservation()
  const before = await snapshot(bed.db.sql, TENANT)
  const [runs] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`
  const since = bed.sim.requests.length
  const result = await run()
  expect(bed.sim.requests.length).toBe(since)
  expect(await snapshot(bed.db.sql, TENANT)).toEqual(before)
  const [runsAfter] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`
  expect(runsAfter?.n).toBe(runs?.n)
  return result
}

/** One ERROR line on stderr and nothing else, no stack, nothing on stdout, no piece of BAD_PASSWORD. */
function expectOneLine(result: RunResult, code: number, says: RegExp | string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' })
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^\S+Z ERROR /)
  if (typeof says === 'string') expect(lines[0]?.replace(/^\S+Z ERROR /, '')).toBe(says)
  else expect(lines[0]).toMatch(says)
  for (let at = 0; at + 6 <= BAD_PASSWORD.length; at++) expect(result.stderr).not.toContain(BAD_PASSWORD.slice(at, at + 6))
}

type Case = [name: string, args: string[], databaseUrl: () => string, says: RegExp | (() => string)]

const ENCODE =
  'a character such as @, /, ?, # or % in the user name or password must be percent-encoded (@ as %40, / as %2F, ? as %3F, # as %23, % as %25).'
const cannotRead = (why: string) => `DATABASE_URL cannot be read as postgres://user:password@host:port/database (${why}): ${ENCODE}`

// A setting that is wrong in itself: exit 2, before anything connects.
const usage: Case[] = [
  [
    'an unknown sslmode (sync)',
    ['--tenant', TENANT],
    () => withQuery('sslmode=requird'),
    () => "DATABASE_URL's sslmode=requird is not an sslmode: use disable, allow, prefer, require, verify-ca or verify-full.",
  ],
  [
    'an unknown sslmode (migrate)',
    ['migrate'],
    () => withQuery('sslmode=on'),
    () => "DATABASE_URL's sslmode=on is not an sslmode: use disable, allow, prefer, require, verify-ca or verify-full.",
  ],
  [
    'an unknown sslmode (status, the flag before the command)',
    ['--quiet', 'status'],
    () => withQuery('sslmode=yes'),
    () => "DATABASE_URL's sslmode=yes is not an sslmode: use disable, allow, prefer, require, verify-ca or verify-full.",
  ],
  [
    'a password with unescaped @ / # (sync)',
    ['--tenant', TENANT],
    () => `postgres://postgres:${BAD_PASSWORD.slice(0, 4)}@/#${BAD_PASSWORD.slice(4)}@127.0.0.1:5432/postgres`,
    () => cannotRead('it holds a #'),
  ],
  [
    'a password with unescaped @ and / (migrate)',
    ['migrate'],
    () => `postgres://postgres:${BAD_PASSWORD.slice(0, 4)}@ss/${BAD_PASSWORD.slice(4)}@127.0.0.1:5432/postgres`,
    () => cannotRead('an @ after the host'),
  ],
  [
    'a password with an unescaped @ (status)',
    ['status'],
    () => `postgres://postgres:${BAD_PASSWORD.slice(0, 4)}@${BAD_PASSWORD.slice(4)}@127.0.0.1:5432/postgres`,
    () => cannotRead('more than one @'),
  ],
  [
    'a password with a bare %',
    ['--tenant', TENANT],
    () => `postgres://postgres:${BAD_PASSWORD}%@127.0.0.1/postgres`,
    () => cannotRead('a % that is not a percent-escape'),
  ],
  [
    "sync's flag before another command",
    ['--tenant', TENANT, 'status'],
    () => bed.env.DATABASE_URL!,
    () => 'Unknown option --tenant. See: gingr-sync status --help',
  ],
]

// A server that refuses: exit 1, the server named, the fix said.
const refused: Case[] = [
  [
    'a database without the schema (sync)',
    [],
    () => bareUrl(),
    () => `The schema is missing in PostgreSQL at ${serverOf(bareUrl())} (relation "tenants" does not exist): run \`gingr-sync migrate\`.`,
  ],
  [
    'a database without the schema (status)',
    ['status'],
    () => bareUrl(),
    () => `The schema is missing in PostgreSQL at ${serverOf(bareUrl())} (relation "tenants" does not exist): run \`gingr-sync migrate\`.`,
  ],
  [
    'no such database (sync)',
    ['--tenant', TENANT],
    () => noSuchDatabaseUrl(),
    () =>
      `PostgreSQL at ${serverOf(noSuchDatabaseUrl())} has no such database (database "gingr_sync_no_such_db" does not exist): check the database name in DATABASE_URL.`,
  ],
  [
    'no such database (migrate)',
    ['migrate'],
    () => noSuchDatabaseUrl(),
    /ERROR PostgreSQL at 127\.0\.0\.1:\d+\/gingr_sync_no_such_db has no such database/,
  ],
  [
    'no free connection slots (sync)',
    [],
    () => fullRoleUrl(),
    () => `PostgreSQL at ${serverOf(fullRoleUrl())} has no free connection slots (too many connections).`,
  ],
  [
    'no free connection slots (migrate)',
    ['migrate'],
    () => fullRoleUrl(),
    () => `PostgreSQL at ${serverOf(fullRoleUrl())} has no free connection slots (too many connections).`,
  ],
  [
    'a wrong password (sync)',
    [],
    () => wrongPasswordUrl(),
    /ERROR PostgreSQL at 127\.0\.0\.1:\d+\/postgres rejected the login \(.*password authentication failed/,
  ],
  [
    'a wrong password (migrate)',
    ['migrate'],
    () => wrongPasswordUrl(),
    /ERROR PostgreSQL at 127\.0\.0\.1:\d+\/postgres rejected the login \(.*password authentication failed/,
  ],
  [
    'sslmode=require against a server without SSL (sync)',
    [],
    () => withQuery('sslmode=require', plain.url),
    () =>
      `PostgreSQL at ${serverOf(plain.url)} does not accept SSL connections, but DATABASE_URL asks for sslmode=require: enable SSL on the server, or set sslmode=prefer (SSL when the server offers it) or sslmode=disable.`,
  ],
  [
    'sslmode=verify-full against a server without SSL (migrate)',
    ['migrate'],
    () => withQuery('sslmode=verify-full', plain.url),
    /does not accept SSL connections, but DATABASE_URL asks for sslmode=verify-full: enable SSL on the server/,
  ],
  [
    'a ?schema= that names no schema (sync)',
    ['--tenant', TENANT],
    () => withQuery('schema=tailtown_typo'),
    () =>
      `PostgreSQL at ${serverOf(bed.env.DATABASE_URL!)} has no schema "tailtown_typo" (?schema= in DATABASE_URL): check its name, or create it (CREATE SCHEMA).`,
  ],
  [
    'a ?schema= that names no schema (migrate)',
    ['migrate'],
    () => withQuery('schema=tailtown_typo'),
    /has no schema "tailtown_typo" \(\?schema= in DATABASE_URL\)/,
  ],
  [
    'a URL parameter that is no PostgreSQL setting (status)',
    ['status'],
    () => withQuery('statement_timout=5000'),
    () =>
      `PostgreSQL at ${serverOf(bed.env.DATABASE_URL!)} has no setting "statement_timout": remove ?statement_timout= from DATABASE_URL.`,
  ],
]

const bareUrl = () =>
  url((u) => {
    u.password ||= BAD_PASSWORD
  }, bare.url)
const noSuchDatabaseUrl = () =>
  url((u) => {
    u.pathname = '/gingr_sync_no_such_db'
  })
const fullRoleUrl = () =>
  url((u) => {
    u.username = FULL_ROLE
    u.password = BAD_PASSWORD
  })
const wrongPasswordUrl = () =>
  url((u) => {
    u.password = BAD_PASSWORD
  }, passwords.url)

// Nothing is done in any case, so none can disturb another's proof: they run side by side.
describe.concurrent('DATABASE_URL that cannot be right: exit 2, one line, nothing done', () => {
  for (const [name, args, databaseUrl, says] of usage) {
    test(name, async () => {
      const result = await nothingDone(() => gingrSync(bed, args, { DATABASE_URL: databaseUrl() }))
      expectOneLine(result, 2, typeof says === 'function' ? says() : says)
    })
  }
})

describe.concurrent('a server that refuses: exit 1, one line naming the server, nothing done', () => {
  for (const [name, args, databaseUrl, says] of refused) {
    test(name, async () => {
      const result = await nothingDone(() => gingrSync(bed, args, { DATABASE_URL: databaseUrl() }))
      expectOneLine(result, 1, typeof says === 'function' ? says() : says)
    })
  }

  test('doctor says the same of SSL, under its check', async () => {
    const result = await gingrSync(bed, ['doctor'], { DATABASE_URL: withQuery('sslmode=require', plain.url) })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(
      `✗ Database reachable: PostgreSQL at ${serverOf(plain.url)} does not accept SSL connections, but DATABASE_URL asks for sslmode=require`,
    )
  })

  test('doctor names a ?schema= that names no schema, instead of asking for migrate', async () => {
    const result = await gingrSync(bed, ['doctor'], { DATABASE_URL: withQuery('schema=tailtown_typo') })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('✗ Database schema: No schema of the search path ("tailtown_typo") exists in this database')
  })
})

// Prisma's and libpq's forms, which Tailtown's operators already have: the run simply works.
describe("Prisma's DATABASE_URL forms work", () => {
  test.each([
    ['?schema=public with pool parameters', () => withQuery('schema=public&connection_limit=5&pool_timeout=10&pgbouncer=false')],
    ['a socket as ?host=', () => socketUrl('param')],
    ['a %2F-encoded socket host', () => socketUrl('encoded')],
  ])('%s: sync exit 0, the window equal to Gingr', async (_name, databaseUrl) => {
    const added = bed.sim.account.addReservation()
    const result = await gingrSync(bed, ['--tenant', TENANT], { DATABASE_URL: databaseUrl() })
    expect(result.code).toBe(0)
    expect(await differences(bed)).toEqual([])
    const [row] = await bed.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM reservations WHERE "tenantId" = ${TENANT} AND "externalId" = ${String(added.reservation_id)}`
    expect(row?.n).toBe(1)
  })

  test('migrate and status by the socket', async () => {
    expect(await gingrSync(bed, ['migrate'], { DATABASE_URL: socketUrl('encoded') })).toMatchObject({ code: 0 })
    const status = await gingrSync(bed, ['status', '--json'], { DATABASE_URL: socketUrl('param') })
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, tenants: [{ tenantId: TENANT, enabled: true }] })
  })
})

// `--help` shows `gingr-sync [OPTIONS] sync|migrate|status|doctor`: the common flags go either side.
describe('the common flags before the command, as --help shows them', () => {
  let envFile: string
  beforeAll(() => {
    envFile = dir.write(
      'gingr-sync.env',
      Object.entries(bed.env)
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
    )
  })
  const withoutEnv = { DATABASE_URL: undefined, GINGR_API_KEY: undefined, GINGR_BASE_URL: undefined, GINGR_SUBDOMAIN: undefined }

  test('--env-file X status', async () => {
    const result = await gingrSync(bed, ['--env-file', envFile, 'status'], withoutEnv)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`(${TENANT}) · enabled`)
  })

  test('--json --env-file=X migrate', async () => {
    const result = await gingrSync(bed, ['--json', `--env-file=${envFile}`, 'migrate'], withoutEnv)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, created: [] })
  })

  test('--env-file X doctor --json', async () => {
    const result = await gingrSync(bed, ['--env-file', envFile, 'doctor', '--json'], withoutEnv)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true })
  })

  test('--env-file X sync --tenant T --dry-run', async () => {
    const result = await gingrSync(bed, ['--env-file', envFile, 'sync', '--tenant', TENANT, '--dry-run'], withoutEnv)
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('Dry run: every change above was rolled back')
  })

  test('--env-file X status --help is status’s help', async () => {
    const result = await gingrSync(bed, ['--env-file', envFile, 'status', '--help'], withoutEnv)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('USAGE gingr-sync status [OPTIONS]')
  })

  test('--env-file X frobnicate is still an unknown command', async () => {
    const result = await gingrSync(bed, ['--env-file', envFile, 'frobnicate'], withoutEnv)
    expectOneLine(result, 2, 'Unknown command "frobnicate". Commands: sync, migrate, status, doctor, full.')
  })
})
