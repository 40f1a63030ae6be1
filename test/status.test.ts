/**
 * `gingr-sync status` against a real PostgreSQL: the core (`readStatus`) with a fixed clock for
 * the decisions, and the CLI run from source for exit codes and what an operator reads.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { hostname } from 'node:os'
import { ago } from '../src/commands/status.ts'
import { type RunRecord, recordRun } from '../src/db/runs.ts'
import { freePort } from '../src/dev/embedded-postgres.ts'
import { readStatus, type TenantStatusEntry } from '../src/sync/status.ts'
import { runSource } from './_binary.ts'
import { freshDatabase, migratedDatabase, type TestDatabase } from './_db.ts'
import { testDir } from './_tmp.ts'
import { insertTenant, type TenantOverrides } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const NOW = new Date('2026-11-27T07:00:00.000Z')
const minutesBefore = (minutes: number, from: Date = NOW) => new Date(from.getTime() - minutes * 60_000)

const databases: TestDatabase[] = []
async function database(): Promise<TestDatabase> {
  const db = await migratedDatabase()
  databases.push(db)
  return db
}
afterAll(() => Promise.all(databases.map((db) => db.drop())))

function run(tenantId: string, startedAt: Date, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    tenantId,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 4200),
    dryRun: false,
    status: 'synced',
    windowFrom: '2026-11-20',
    windowTo: '2026-12-27',
    fetched: 12,
    created: 3,
    updated: 1,
    unchanged: 8,
    skipped: 0,
    customersCreated: 1,
    petsCreated: 1,
    servicesCreated: 0,
    durationMs: 4200,
    statements: 9,
    vanished: 0,
    moved: 0,
    cancelled: 0,
    withheld: 0,
    ownersChanged: 0,
    ownersUpdated: 0,
    ownerRefreshError: null,
    error: null,
    ...overrides,
  }
}

describe('readStatus', () => {
  let db: TestDatabase
  let entries: Map<string, TenantStatusEntry>

  interface Case {
    id: string
    tenant: TenantOverrides
    runs?: RunRecord[]
    /** undefined: the tenant is not listed at all. */
    expected?: Partial<TenantStatusEntry>
  }

  const cases: Case[] = [
    { id: 'fresh', tenant: { last_gingr_sync_at: minutesBefore(37) }, expected: { enabled: true, minutesSinceSync: 37, stale: false } },
    { id: 'exactly-at-max-age', tenant: { last_gingr_sync_at: minutesBefore(150) }, expected: { minutesSinceSync: 150, stale: false } },
    { id: 'just-past-max-age', tenant: { last_gingr_sync_at: minutesBefore(150.5) }, expected: { minutesSinceSync: 150, stale: true } },
    { id: 'days-old', tenant: { last_gingr_sync_at: minutesBefore(3 * 1440) }, expected: { minutesSinceSync: 4320, stale: true } },
    { id: 'never-synced', tenant: {}, expected: { enabled: true, lastSyncAt: null, minutesSinceSync: null, stale: true, lastRun: null } },
    { id: 'stamp-ahead-of-clock', tenant: { last_gingr_sync_at: minutesBefore(-2) }, expected: { minutesSinceSync: 0, stale: false } },
    { id: 'paused', tenant: { status: 'PAUSED', last_gingr_sync_at: minutesBefore(9000) }, expected: { enabled: false, stale: false } },
    { id: 'inactive', tenant: { isActive: false }, expected: { enabled: false, stale: false } },
    {
      id: 'switched-off-with-history',
      tenant: { gingr_sync_enabled: false },
      runs: [run('switched-off-with-history', minutesBefore(5000))],
      expected: { enabled: false, stale: false },
    },
    { id: 'never-a-gingr-customer', tenant: { gingr_sync_enabled: false } },
  ]

  beforeAll(async () => {
    db = await database()
    for (const c of cases) {
      await insertTenant(db.sql, { id: c.id, businessName: `Kennel ${c.id}`, ...c.tenant })
      for (const r of c.runs ?? []) await recordRun(db.sql, r)
    }
    const report = await readStatus(db.sql, { maxAgeMinutes: 150, now: NOW })
    entries = new Map(report.tenants.map((t) => [t.tenantId, t]))
  })

  test.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    if (c.expected === undefined) {
      expect(entries.has(c.id)).toBe(false)
      return
    }
    expect(entries.get(c.id)).toMatchObject({ tenantId: c.id, businessName: `Kennel ${c.id}`, ...c.expected })
  })

  test('one stale enabled tenant makes the report not ok; a larger max age forgives it', async () => {
    const strict = await readStatus(db.sql, { maxAgeMinutes: 150, now: NOW })
    expect(strict.ok).toBe(false)
    expect(strict.maxAgeMinutes).toBe(150)
    const stale = strict.tenants
      .filter((t) => t.stale)
      .map((t) => t.tenantId)
      .sort()
    expect(stale).toEqual(['days-old', 'just-past-max-age', 'never-synced'])
    const lenient = await readStatus(db.sql, { maxAgeMinutes: 5000, now: NOW })
    expect(lenient.tenants.filter((t) => t.stale).map((t) => t.tenantId)).toEqual(['never-synced'])
  })
})

describe('the last run', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await database()
  })

  async function lastRunOf(tenantId: string, runs: RunRecord[]) {
    await insertTenant(db.sql, { id: tenantId, last_gingr_sync_at: minutesBefore(60) })
    for (const r of runs) await recordRun(db.sql, r)
    const report = await readStatus(db.sql, { now: NOW })
    return report.tenants.find((t) => t.tenantId === tenantId)?.lastRun
  }

  test('is the newest one, with its outcome, counts, duration and error', async () => {
    const failure = run('failing', minutesBefore(5), {
      status: 'failed',
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      durationMs: 30_100,
      error: 'Gingr /reservations failed after 4 attempts: HTTP 503 (Service Unavailable).',
    })
    const lastRun = await lastRunOf('failing', [run('failing', minutesBefore(60)), failure])
    expect(lastRun).toEqual({
      startedAt: failure.startedAt,
      finishedAt: failure.finishedAt,
      status: 'failed',
      windowFrom: '2026-11-20',
      windowTo: '2026-12-27',
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      customersCreated: 1,
      petsCreated: 1,
      servicesCreated: 0,
      durationMs: 30_100,
      statements: 9,
      vanished: 0,
      moved: 0,
      cancelled: 0,
      withheld: 0,
      ownersChanged: 0,
      ownersUpdated: 0,
      ownerRefreshError: null,
      error: failure.error,
      host: hostname(),
    })
  })

  test('is never a dry run, even one the history somehow holds', async () => {
    const real = run('dry', minutesBefore(60), { created: 7 })
    const lastRun = await lastRunOf('dry', [real, run('dry', minutesBefore(2), { dryRun: true, created: 99 })])
    expect(lastRun).toMatchObject({ startedAt: real.startedAt, created: 7 })
  })

  test('is null when none was recorded (a tenant stamped by an older tool)', async () => {
    expect(await lastRunOf('stamped-elsewhere', [])).toBeNull()
  })
})

test.each([
  [0, '0 min ago'],
  [37, '37 min ago'],
  [60, '1 h ago'],
  [187, '3 h 7 min ago'],
  [2879, '47 h 59 min ago'],
  [2880, '2 days ago'],
  [10_000, '6 days ago'],
])('%d minutes read "%s"', (minutes, text) => {
  expect(ago(minutes)).toBe(text)
})

describe('the command', () => {
  const PASSWORD = 'st-Secret-pw-4471'
  const dir = testDir('status')
  let healthy: TestDatabase
  let stale: TestDatabase

  beforeAll(async () => {
    healthy = await database()
    await insertTenant(healthy.sql, { id: 'h1', businessName: 'Happy Paws', last_gingr_sync_at: minutesBefore(37, new Date()) })
    await recordRun(healthy.sql, run('h1', minutesBefore(37, new Date())))
    await insertTenant(healthy.sql, { id: 'h2', businessName: 'Paused Place', status: 'PAUSED' })

    stale = await database()
    await insertTenant(stale.sql, { id: 's1', businessName: 'Fine Kennels', last_gingr_sync_at: minutesBefore(10, new Date()) })
    await insertTenant(stale.sql, { id: 's2', businessName: 'Stuck Kennels', last_gingr_sync_at: minutesBefore(200, new Date()) })
    await recordRun(
      stale.sql,
      run('s2', minutesBefore(3, new Date()), {
        status: 'failed',
        durationMs: 30_100,
        error: 'Gingr /reservations failed after 4 attempts: HTTP 503.',
      }),
    )
    await insertTenant(stale.sql, { id: 's3', businessName: 'New Kennels' })
  })

  test('a healthy set-up exits 0 and prints one line per tenant', async () => {
    const result = await status([], healthy.url)
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines[0]).toMatch(
      /^✓ Happy Paws \(h1\) · enabled · last sync \d{4}-\d\d-\d\d \d\d:\d\d UTC, 3[78] min ago · no full sync yet · owners not refreshed yet · last run synced on \S+ in 4\.2 s: 12 fetched, 3 created, 1 updated, 8 unchanged, 0 skipped$/,
    )
    expect(lines[1]).toBe(
      '— Paused Place (h2) · not enabled · never synced · no full sync yet · owners not refreshed yet · no run recorded',
    )
    expect(lines.at(-1)).toBe('All 1 enabled tenant synced within the last 150 min.')
  })

  test('a stale tenant or one never synced exits 1 and is marked STALE', async () => {
    const result = await status([], stale.url)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(
      /^✓ Fine Kennels \(s1\) · enabled · last sync .*, 1[01] min ago · no full sync yet · owners not refreshed yet · no run recorded$/m,
    )
    expect(result.stdout).toMatch(
      /^✗ STALE Stuck Kennels \(s2\) · enabled · last sync .*, 3 h 2[01] min ago · no full sync yet · owners not refreshed yet · last run FAILED .* UTC \([34] min ago\) on \S+ after 30\.1 s: Gingr \/reservations failed after 4 attempts: HTTP 503\.$/m,
    )
    expect(result.stdout).toMatch(
      /^✗ STALE New Kennels \(s3\) · enabled · never synced · no full sync yet · owners not refreshed yet · no run recorded$/m,
    )
    expect(result.stdout).toContain('STALE: 2 of 3 enabled tenants not synced within the last 150 min (or never).')
  })

  test('--max-age moves the line between fresh and stale', async () => {
    const result = await status(['--max-age', '300'], stale.url)
    expect(result.stdout).toMatch(/^✓ Stuck Kennels/m)
    expect(result.code).toBe(1) // New Kennels never synced
  })

  test('--json prints one object on stdout', async () => {
    const result = await status(['--json', '--max-age=30'], stale.url)
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report).toMatchObject({ ok: false, maxAgeMinutes: 30 })
    expect(report.tenants.map((t: TenantStatusEntry) => [t.tenantId, t.enabled, t.stale])).toEqual([
      ['s1', true, false],
      ['s3', true, true],
      ['s2', true, true],
    ])
    const stuck = report.tenants.find((t: TenantStatusEntry) => t.tenantId === 's2')
    expect(new Date(stuck.lastSyncAt).getTime()).toBeGreaterThan(Date.now() - 210 * 60_000)
    expect(stuck.minutesSinceSync).toBeGreaterThanOrEqual(200)
    expect(stuck.lastRun).toMatchObject({
      status: 'failed',
      durationMs: 30_100,
      error: 'Gingr /reservations failed after 4 attempts: HTTP 503.',
    })
  })

  test('settings come from --env-file too', async () => {
    const envFile = dir.write('gingr-sync.env', `DATABASE_URL=${withPassword(healthy.url)}\n`)
    const result = await status(['--env-file', envFile], undefined)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Happy Paws (h1)')
  })

  test.each([
    ['0', '--max-age must be a whole number from 1 to 100000, not "0".'],
    ['100001', '--max-age must be a whole number from 1 to 100000, not "100001".'],
    ['2.5', '--max-age must be a whole number from 1 to 100000, not "2.5".'],
  ])('--max-age %s is a usage error (exit 2)', async (value, sentence) => {
    const result = await status(['--max-age', value], healthy.url)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(sentence)
    expect(result.stdout).toBe('')
  })

  test('no DATABASE_URL is a usage error (exit 2)', async () => {
    const result = await status([], undefined)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('DATABASE_URL is not set')
  })

  test('a database that is down exits 1 with one sentence, no stack and no password', async () => {
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/gingr`
    const result = await status(['--json'], url)
    expect(result.code).toBe(1)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/ERROR PostgreSQL at 127\.0\.0\.1:\d+\/gingr refused the connection/)
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false })
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })

  test('a database without the schema exits 1 with a sentence', async () => {
    const bare = await freshDatabase()
    databases.push(bare)
    const result = await status([], bare.url)
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    const { hostname, port } = new URL(bare.url)
    expect(result.stderr).toContain(
      `The schema is missing in PostgreSQL at ${hostname}:${port || 5432}/${bare.name} (relation "tenants" does not exist): run \`gingr-sync migrate\`.`,
    )
  })

  function withPassword(url: string): string {
    const u = new URL(url)
    if (!u.password) u.password = PASSWORD
    return u.toString()
  }

  function status(args: string[], databaseUrl: string | undefined) {
    return runSource(['status', ...args], { DATABASE_URL: databaseUrl && withPassword(databaseUrl) }).then((result) => {
      // The embedded server's own password too, when the tests started one.
      const secrets = [PASSWORD, decodeURIComponent(new URL(healthy.url).password)].filter((s) => s !== '')
      for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret)
      return result
    })
  }
})
