/**
 * The hourly run over many tenants, called as a library (src/sync/hourly.ts): which tenants, each
 * planned and synced on its own, the exit code; against a real PostgreSQL and the simulator.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { loadSettings } from '../src/config.ts'
import { connect } from '../src/db/connect.ts'
import { ExitCode, UsageError } from '../src/errors.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { type HourlyOptions, HourlyRun, hourlyExitCode, outcomesOf } from '../src/sync/hourly.ts'
import { isDeadLocalOwner, LOCAL_OWNER_PREFIX } from '../src/sync/owner.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(30_000)

const ZONE = 'America/Denver'
let sim: Simulator
let db: TestDatabase

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, reservations: 60, owners: 20, animals: 30, timeZone: ZONE })
  db = await migratedDatabase({ max: 10 })
})
afterAll(async () => {
  await sim?.stop()
  await db?.drop()
})

function hourly(options: Partial<HourlyOptions> = {}): HourlyRun {
  const settings = loadSettings({ env: { GINGR_API_KEY: sim.apiKey, GINGR_BASE_URL: sim.baseUrl } })
  return new HourlyRun({
    sql: db.sql,
    settings,
    dryRun: false,
    flags: {},
    gingr: { paceMs: 0, backoffBaseMs: 5, backoffMaxMs: 20, timeoutMs: 5000 },
    ...options,
  })
}

describe.concurrent('the tenants of a run', () => {
  test('every enabled tenant, each on its own: a setting wrong for one fails that one alone', async () => {
    const good = await insertTenant(db.sql, { businessName: 'A good one' })
    const bad = await insertTenant(db.sql, { businessName: 'A bad zone', timezone: 'Mars/Olympus' })
    const off = await insertTenant(db.sql, { businessName: 'Switched off', gingr_sync_enabled: false })
    const { results } = await hourly().run()
    const byId = new Map(results.map((r) => [r.tenantId, r]))
    expect(byId.get(good)?.status).toBe('synced')
    expect(byId.get(bad)?.status).toBe('failed')
    expect(byId.get(bad)?.error).toContain('Mars/Olympus')
    expect(byId.has(off)).toBe(false)
    expect(hourlyExitCode(results)).toBe(ExitCode.Failed)
  })

  test('a bad pingUrl fails its tenant alone, unpinged; the others sync and are pinged', async () => {
    // A database of its own: the scheduled run takes every enabled tenant it finds.
    const own = await migratedDatabase({ max: 4 })
    try {
      const good = await insertTenant(own.sql, { businessName: 'Pinged well' })
      const bad = await insertTenant(own.sql, { businessName: 'Pinged by ftp' })
      const base = loadSettings({ env: { GINGR_API_KEY: sim.apiKey, GINGR_BASE_URL: sim.baseUrl } })
      const tenants = { [good]: { pingUrl: 'https://hc.example/good' }, [bad]: { pingUrl: 'ftp://hc.example/x' } }
      const pinged: string[] = []
      const ping = async (_: unknown, url: string, event: string) => void pinged.push(`${url} ${event}`)
      const { results } = await hourly({ sql: own.sql, settings: { ...base, config: { tenants } }, ping }).run()
      expect(results.map((r) => [r.tenantId, r.status, r.error])).toEqual([
        [bad, 'failed', `Tenant Pinged by ftp (${bad}): its pingUrl in the config file is not an http:// or https:// URL.`],
        [good, 'synced', undefined],
      ])
      expect(pinged.sort()).toEqual(['https://hc.example/good start', 'https://hc.example/good success'])
    } finally {
      await own.drop()
    }
  })

  test('--tenant: a tenant that is not enabled runs, and says so; an unknown one is a usage error', async () => {
    const off = await insertTenant(db.sql, { businessName: 'Off by hand', gingr_sync_enabled: false })
    const told: string[] = []
    const { results } = await hourly({ tenantId: off, onNotEnabled: (tenant) => told.push(tenant.id) }).run()
    expect(results.map((r) => [r.tenantId, r.status])).toEqual([[off, 'synced']])
    expect(told).toEqual([off])
    expect(hourly({ tenantId: 'no-such-tenant' }).run()).rejects.toBeInstanceOf(UsageError)
  })
})

describe.concurrent('the scheduled run among others', () => {
  /** A database of the case's own with `count` enabled tenants (overrides for all of them). */
  async function own(count: number, overrides: { timezone?: string } = {}) {
    const db = await migratedDatabase({ max: 4 })
    for (let i = 0; i < count; i++) await insertTenant(db.sql, { businessName: `Own ${i}`, ...overrides })
    const counts = async (options: Partial<HourlyOptions> = {}) => {
      const report = await hourly({ sql: db.sql, ...options }).run()
      const { synced, failed, skipped } = outcomesOf(report)
      return { synced, failed, skipped, ids: report.results.map((r) => r.tenantId) }
    }
    return { db, counts }
  }

  test('--tenant by hand always runs; the scheduled run skips what was synced within --min-interval', async () => {
    const { db, counts } = await own(2)
    try {
      const [first] = (await counts()).ids
      for (let i = 0; i < 2; i++) expect(await counts({ tenantId: first })).toMatchObject({ synced: 1, skipped: 0 })
      expect(await counts()).toMatchObject({ synced: 0, failed: 0, skipped: 2 })
      expect(await counts({ minIntervalMs: 0 })).toMatchObject({ synced: 2, skipped: 0 })
      // A dry run claims nothing, skips nothing.
      expect(await counts({ dryRun: true })).toMatchObject({ synced: 2, skipped: 0 })
    } finally {
      await db.drop()
    }
  })

  test('a run stopped mid-fetch frees its tenant without a failure: the next run takes it at once', async () => {
    const { db, counts } = await own(1)
    const hanging = await startSimulator({ seed: 6, reservations: 5, owners: 3, animals: 3, timeZone: ZONE })
    try {
      hanging.faults.add({ endpoint: '/reservations', fault: { kind: 'hang' } })
      const abort = new AbortController()
      const settings = loadSettings({ env: { GINGR_API_KEY: hanging.apiKey, GINGR_BASE_URL: hanging.baseUrl } })
      const run = hourly({ sql: db.sql, settings, gingr: { paceMs: 0, timeoutMs: 30_000, signal: abort.signal } })
      const done = run.run()
      while (hanging.requests.length === 0) await Bun.sleep(10)
      // As the command does on SIGTERM: abort the fetch, then stop the run. The worker ends first here.
      abort.abort()
      await done
      const report = await run.stop('Stopped by SIGTERM')
      const [state] = await db.sql`SELECT lease_owner, last_failed_at FROM gingr_sync_tenants`
      expect(state).toEqual({ lease_owner: null, last_failed_at: null })
      expect(report).toMatchObject({ results: [], stopped: 1, skipped: 0 })
      expect(await counts()).toMatchObject({ synced: 1, failed: 0, skipped: 0 })
    } finally {
      await hanging.stop()
      await db.drop()
    }
  })

  test('a failed tenant is not taken again within --min-interval, and is by the next run', async () => {
    const { db, counts } = await own(1, { timezone: 'Not/A_Zone' })
    try {
      expect(await counts()).toMatchObject({ failed: 1, skipped: 0 })
      expect(await counts()).toMatchObject({ failed: 0, skipped: 1 })
      // The next hour's run, as far as the interval goes.
      expect(await counts({ minIntervalMs: 0 })).toMatchObject({ failed: 1, skipped: 0 })
    } finally {
      await db.drop()
    }
  })
})

describe.concurrent('leases of other runs', () => {
  /** A database of the case's own with one enabled tenant held by `owner` for `ms`. */
  async function held(owner: string, ms: number) {
    const own = await migratedDatabase({ max: 4 })
    const tenant = await insertTenant(own.sql, { businessName: 'Held' })
    await own.sql`INSERT INTO gingr_sync_tenants (tenant_id, lease_owner, lease_until, claimed_at)
      VALUES (${tenant}, ${owner}, now() + ${ms / 1000}::float8 * interval '1 second', now() - interval '1 hour')`
    return { own, tenant, run: () => hourly({ sql: own.sql }).run() }
  }

  test("another machine's lease: left alone while it holds, the tenant taken once it has run out", async () => {
    const { own, tenant, run } = await held('elsewhere pid:[1] 4242', 3_600_000)
    try {
      const first = await run()
      expect([first.results, first.skipped]).toEqual([[], 1])
      // Its end comes as the database's clock passes it: moved there rather than waited for.
      await own.sql`UPDATE gingr_sync_tenants SET lease_until = now() - interval '1 millisecond' WHERE tenant_id = ${tenant}`
      const next = await run()
      expect(next.results.map((r) => [r.tenantId, r.status])).toEqual([[tenant, 'synced']])
    } finally {
      await own.drop()
    }
  })

  test('a run of this machine whose process is gone: its lease is void at once', async () => {
    const gone = Bun.spawn(['true'])
    await gone.exited
    const { own, tenant, run } = await held(`${LOCAL_OWNER_PREFIX}${gone.pid}`, 3_600_000)
    try {
      expect((await run()).results.map((r) => [r.tenantId, r.status])).toEqual([[tenant, 'synced']])
    } finally {
      await own.drop()
    }
  })

  test('a clone of this machine (same host name and pid namespace, another boot) keeps its lease', async () => {
    const gone = Bun.spawn(['true'])
    await gone.exited
    const [host, namespace] = [hostname(), readlinkSync('/proc/self/ns/pid')]
    const clones = [`${host} ${namespace} ${gone.pid}`, `${host} boot:00000000-0000-4000-8000-000000000000 ${namespace} ${gone.pid}`]
    expect(clones.map(isDeadLocalOwner)).toEqual([false, false])
    expect(isDeadLocalOwner(`${LOCAL_OWNER_PREFIX}${gone.pid}`)).toBe(true)
    const { own, run } = await held(clones[0]!, 3_600_000)
    try {
      expect((await run()).skipped).toBe(1)
    } finally {
      await own.drop()
    }
  })

  test('a run of this machine still alive keeps its lease', async () => {
    const { own, run } = await held(`${LOCAL_OWNER_PREFIX}${process.ppid}`, 3_600_000)
    try {
      expect((await run()).skipped).toBe(1)
    } finally {
      await own.drop()
    }
  })
})

describe('tenants side by side', () => {
  test("each worker on a connection of its own: every tenant's statement count is its own", async () => {
    const own = await migratedDatabase({ max: 2 })
    try {
      for (let i = 0; i < 6; i++) await insertTenant(own.sql, { businessName: `Side ${i}` })
      const counters: number[] = []
      const { results } = await hourly({
        sql: own.sql,
        concurrency: 3,
        connect: () => {
          const index = counters.push(0) - 1
          const sql = connect(own.url, { max: 1, onQuery: () => counters[index]!++ })
          return { sql, statements: () => counters[index]! }
        },
      }).run()
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('synced'))
      expect(counters).toHaveLength(3)
      // The same account and window for all: the same statements each, none counted twice.
      expect(new Set(results.map((r) => r.statements)).size).toBe(1)
      expect(counters.reduce((a, b) => a + b, 0)).toBe(results.reduce((sum, r) => sum + r.statements, 0))
    } finally {
      await own.drop()
    }
  })
})
