/**
 * Tenants side by side (--concurrency), through the compiled binary against the simulator slowed
 * to a real Gingr's pace and a real PostgreSQL: the blocks of the log stay whole, the pool never
 * exceeds N+1, one tenant failing stops no other, and a signal rolls back every tenant in flight.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { concurrencyOf, DEFAULT_CONCURRENCY, loadSettings } from '../src/config.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { binary, cleanEnv, runBinary } from './_binary.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { holdTenantRow, waitForLock } from './_faults.ts'
import { testDir } from './_tmp.ts'
import { insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
const dir = testDir('concurrency')
const LATENCY_MS = 150
const APP = 'gingr-sync-under-test'
let sim: Simulator
let db: TestDatabase
let env: Record<string, string>
let database: string

beforeAll(async () => {
  await binary()
  sim = await startSimulator({ seed: 23, reservations: 60, owners: 20, animals: 30, timeZone: ZONE })
  sim.faults.add({ endpoint: '/reservations', fault: { kind: 'delay', ms: LATENCY_MS } })
  db = await migratedDatabase()
  database = new URL(db.url).pathname.slice(1)
  // A name of its own, so that the test's connections (the same driver, the same default) do not count.
  const url = new URL(db.url)
  url.searchParams.set('application_name', APP)
  env = { DATABASE_URL: url.toString(), GINGR_SUBDOMAIN: 'side-by-side', GINGR_API_KEY: sim.apiKey, GINGR_BASE_URL: sim.baseUrl }
})
afterAll(async () => {
  await sim?.stop()
  await db?.drop()
})

/** The most connections gingr-sync had open to the test's database at once while `run` ran. */
async function peakConnections<T>(run: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0
  let done = false
  const watching = (async () => {
    while (!done) {
      const [row] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${APP} AND datname = ${database}`
      peak = Math.max(peak, row?.n ?? 0)
      await Bun.sleep(10)
    }
  })()
  const result = await run.finally(() => (done = true))
  await watching
  return { result, peak }
}

/**
 * The most window requests (the delayed ones) that arrived within one answer's latency: how many
 * tenants fetched at once. A tenant's other calls (the owner refresh) are answered at once, so
 * they would count a worker twice.
 */
function peakInFlight(since: number): number {
  const at = sim.requests
    .slice(since)
    .filter((r) => r.endpoint === '/reservations')
    .map((r) => r.at)
  return Math.max(0, ...at.map((start) => at.filter((t) => t >= start && t < start + LATENCY_MS - 20).length))
}

// Each case runs every tenant again: --min-interval 0 lets a run take tenants synced a moment ago.
describe('a run of many tenants, 4 at once', () => {
  const tenants: string[] = []
  let broken: string

  beforeAll(async () => {
    for (let i = 0; i < 10; i++)
      tenants.push(await insertTenant(db.sql, { businessName: `Side ${String(i).padStart(2, '0')}`, timezone: ZONE }))
    broken = await insertTenant(db.sql, { businessName: 'Side broken', timezone: 'Not/A_Zone' })
  })

  test('each block whole, one summary line, a failed tenant alone, at most N+1 connections, N fetches at once', async () => {
    const since = sim.requests.length
    // The flag wins over the setting.
    const { result, peak } = await peakConnections(runBinary(['--concurrency', '4', '--json'], { ...env, GINGR_SYNC_CONCURRENCY: '1' }))
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report.tenants).toHaveLength(11)
    expect(report.tenants.filter((t: { status: string }) => t.status === 'synced')).toHaveLength(10)
    expect(report.tenants.find((t: { tenantId: string }) => t.tenantId === broken).status).toBe('failed')
    expect(peak).toBeLessThanOrEqual(5)
    expect(peak).toBeGreaterThanOrEqual(2)
    const inFlight = peakInFlight(since)
    expect(inFlight).toBeLessThanOrEqual(4)
    expect(inFlight).toBeGreaterThanOrEqual(3)

    // A block runs from its "Starting" line to its result line, with no other tenant's line inside.
    const lines = result.stderr.split('\n').map((line) => line.replace(/^\S+ (INFO |WARN |ERROR) /, ''))
    const starts = lines.flatMap((line, index) => (line.startsWith('🔄 Starting') ? [index] : []))
    expect(starts).toHaveLength(11)
    for (const start of starts) {
      const name = /Tenant: (.*) \(/.exec(lines[start + 1] ?? '')?.[1]
      const end = lines.findIndex((line, index) => index > start && /^(✅ Sync complete|❌ Sync failed)/.test(line))
      expect(lines[end]?.startsWith('❌') ? lines[end] : name).toContain(name ?? '?')
      expect(lines.slice(start + 2, end).filter((line) => line.startsWith('🔄') || line.includes('Tenant:'))).toEqual([])
    }
    expect(lines).toContain('📋 11 tenants: 10 synced, 1 failed, 0 locked, 0 skipped')
  })

  test('GINGR_SYNC_CONCURRENCY or --concurrency out of range: a usage error (exit 2), nothing done', async () => {
    const [setting, flag] = await Promise.all([
      runBinary([], { ...env, GINGR_SYNC_CONCURRENCY: '0' }),
      runBinary(['--concurrency', 'many'], env),
    ])
    expect([setting.code, flag.code]).toEqual([2, 2])
    expect(setting.stderr).toContain('GINGR_SYNC_CONCURRENCY must be a whole number of tenants from 1 to 64')
    expect(flag.stderr).toContain('--concurrency must be a whole number')
    // The setting alone, and its default.
    const settings = (value?: string) => loadSettings({ env: { GINGR_SYNC_CONCURRENCY: value } })
    expect([concurrencyOf(settings('2'), undefined), concurrencyOf(settings(), undefined), concurrencyOf(settings('2'), '5')]).toEqual([
      2,
      DEFAULT_CONCURRENCY,
      5,
    ])
  })

  test('SIGTERM with tenants inside their transactions: every one rolled back and recorded, exit 143', async () => {
    const held = tenants.slice(0, 3)
    const metricsFile = join(dir.path, 'gingr-sync.prom')
    const before = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE error LIKE 'Stopped by SIGTERM%'`
    const stamps = async () =>
      (
        await db.sql<
          { id: string; at: Date | null }[]
        >`SELECT id, last_gingr_sync_at AS at FROM tenants WHERE id IN ${db.sql(held)} ORDER BY id`
      ).map((row) => `${row.id}:${row.at?.toISOString()}`)
    const stampsBefore = await stamps()
    const holds = await Promise.all(held.map((id) => holdTenantRow(db.sql, id)))
    try {
      const proc = Bun.spawn([await binary(), '--concurrency', '4', '--min-interval', '0', '--metrics-file', metricsFile], {
        env: cleanEnv(env),
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      })
      await Promise.all(held.map((id) => waitForLock(db.sql, id)))
      proc.kill('SIGTERM')
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
      expect(code).toBe(143)
      expect(stderr).toContain('Stopped by SIGTERM: the tenants in flight are rolled back; tenants synced before the stop stay synced.')
      // The run's line of counts still comes, the tenants cut short counted apart.
      const counts = /📋 11 tenants: \d+ synced, \d+ failed, 0 locked, \d+ skipped, (\d+) stopped \(rolled back\)/.exec(stderr)
      expect(Number(counts?.[1])).toBeGreaterThanOrEqual(3)
      expect(readFileSync(metricsFile, 'utf8')).toContain('\ngingr_sync_run_exit_code 143\n')
    } finally {
      await Promise.all(holds.map((hold) => hold.release()))
    }
    // Rolled back: no stamp moved; each stopped tenant recorded as such.
    expect(await stamps()).toEqual(stampsBefore)
    const after = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE error LIKE 'Stopped by SIGTERM%'`
    expect(after[0]!.n - before[0]!.n).toBeGreaterThanOrEqual(3)
    // A run stopped by a signal frees its claims at once: the next run need not wait for the leases.
    expect([...(await db.sql`SELECT tenant_id FROM gingr_sync_tenants WHERE lease_owner IS NOT NULL`)]).toEqual([])
    // ...and a stop is no failure: --min-interval does not hold them back from the next run.
    expect([
      ...(await db.sql`SELECT tenant_id FROM gingr_sync_tenants WHERE tenant_id IN ${db.sql(held)} AND last_failed_at IS NOT NULL`),
    ]).toEqual([])
  })
})
