/**
 * Several hosts, one database (issue 14 §2): binaries started at the same moment against 50
 * tenants sync each exactly once, fetching each once; one SIGKILLed mid-run leaves nothing
 * half-written, and its tenants are done by the next run. Each case has a database and a simulator
 * of its own, so the cases run side by side. The rules of one claim (--min-interval, --tenant, a
 * failure, leases of other runs) are tested on the core, in-process: test/hourly.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { binary, cleanEnv, type RunResult, TEST_TIMING } from './_binary.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
const TENANTS = 50
/** Leases as short as the tests can afford: a live host renews its own every 200 ms. */
const LEASE_MS = 1000
const cleanups: (() => Promise<void>)[] = []
afterAll(() => Promise.all(cleanups.map((cleanup) => cleanup())))

interface Scene {
  db: TestDatabase
  sim: Simulator
  ids: string[]
  /** Starts one binary, as one host's hourly job would. */
  start(args?: string[]): { proc: Bun.Subprocess; done: Promise<RunResult> }
  /** Per tenant: its real runs as letters (s synced, f failed), its reservations, its stamp. */
  outcomes(): Promise<{ id: string; runs: string; reservations: number; stamped: boolean }[]>
}

async function scene(tenants = TENANTS, overrides: { timezone?: string } = {}): Promise<Scene> {
  const executable = await binary()
  const sim = await startSimulator({ seed: 29, reservations: 24, owners: 10, animals: 14, timeZone: ZONE })
  // A Gingr far away: each tenant's fetch takes long enough for the hosts to meet.
  sim.faults.add({ endpoint: '/reservations', fault: { kind: 'delay', ms: 30 } })
  const db = await migratedDatabase()
  cleanups.push(async () => {
    await sim.stop()
    await db.drop()
  })
  const ids: string[] = []
  for (let i = 0; i < tenants; i++)
    ids.push(await insertTenant(db.sql, { id: `t-${String(i).padStart(2, '0')}`, timezone: ZONE, ...overrides }))
  const env = {
    DATABASE_URL: db.url,
    GINGR_SUBDOMAIN: 'many-hosts',
    GINGR_API_KEY: sim.apiKey,
    GINGR_BASE_URL: sim.baseUrl,
    GINGR_SYNC_TEST_TIMING: JSON.stringify({ ...TEST_TIMING, leaseMs: LEASE_MS, leaseRenewMs: 200 }),
  }
  return {
    db,
    sim,
    ids,
    start(args = []) {
      const proc = Bun.spawn([executable, '--concurrency', '3', ...args], {
        env: cleanEnv(env),
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const done = (async (): Promise<RunResult> => {
        const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
        return { code, stdout, stderr }
      })()
      return { proc, done }
    },
    async outcomes() {
      return db.sql<{ id: string; runs: string; reservations: number; stamped: boolean }[]>`
        SELECT t.id, coalesce(string_agg(left(r.status, 1), '' ORDER BY r.id), '') AS runs,
          (SELECT count(*)::int FROM reservations WHERE "tenantId" = t.id) AS reservations,
          t.last_gingr_sync_at IS NOT NULL AS stamped
        FROM tenants t LEFT JOIN gingr_sync_runs r ON r.tenant_id = t.id AND NOT r.dry_run
        GROUP BY t.id ORDER BY t.id`
    },
  }
}

/** The run's line of counts: tenants, synced, failed, locked, skipped. */
const counts = (result: RunResult) =>
  /📋 (\d+) tenants?: (\d+) synced, (\d+) failed, (\d+) locked, (\d+) skipped/.exec(result.stderr)?.slice(1).map(Number)

describe.concurrent('several hosts, one database', () => {
  test.each([2, 3])('%i binaries started at once on 50 tenants: every tenant synced exactly once, fetched once', async (hosts) => {
    const { start, outcomes, sim } = await scene()
    const results = await Promise.all(Array.from({ length: hosts }, () => start().done))
    for (const result of results)
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' })
    expect((await outcomes()).filter((row) => row.runs !== 's' || !row.stamped)).toEqual([])
    // No wasted Gingr calls: each tenant's two chunks, asked once.
    expect(sim.requests.filter((r) => r.endpoint === '/reservations')).toHaveLength(2 * TENANTS)
    const each = results.map(counts)
    // Each host saw all 50; what one synced, the others skipped; the work was shared.
    for (const count of each) expect([count?.[0], (count?.[1] ?? 0) + (count?.[4] ?? 0)]).toEqual([TENANTS, TENANTS])
    expect(each.reduce((sum, count) => sum + (count?.[1] ?? 0), 0)).toBe(TENANTS)
    expect(each.filter((count) => (count?.[1] ?? 0) > 0).length).toBeGreaterThanOrEqual(2)
  })

  test('one SIGKILLed mid-run: nothing half-written; its tenants are done by the next run, each once', async () => {
    const { start, outcomes, db } = await scene()
    const doomed = start()
    const survivor = start()
    // Mid-run: some tenants synced, most not.
    for (let runs = 0; runs < 8; await Bun.sleep(10)) {
      runs = (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`)[0]!.n
    }
    doomed.proc.kill('SIGKILL')
    await doomed.done
    expect((await survivor.done).code).toBe(0)

    // The killed host's tenants in flight: claimed, never stamped, nothing of them written.
    const after = await outcomes()
    const undone = after.filter((row) => row.runs === '')
    expect(after.filter((row) => row.runs !== '' && row.runs !== 's')).toEqual([])
    expect(after.filter((row) => (row.runs === 's') !== (row.reservations > 0 && row.stamped))).toEqual([])
    expect(undone.length).toBeGreaterThan(0)
    // Still claimed by the dead host, until their leases run out (with any it synced but had not
    // released yet).
    const held = await db.sql<{ id: string }[]>`SELECT tenant_id AS id FROM gingr_sync_tenants WHERE lease_owner IS NOT NULL ORDER BY 1`
    expect(held.map((row) => row.id)).toEqual(expect.arrayContaining(undone.map((row) => row.id)))

    // The next run, at once: on the same machine it sees that the dead run's process is gone (another
    // machine waits for the leases to run out: test/hourly.test.ts). The rest, each once.
    const next = await start().done
    expect(next.code).toBe(0)
    expect(counts(next)).toEqual([TENANTS, undone.length, 0, 0, TENANTS - undone.length])
    expect((await outcomes()).filter((row) => row.runs !== 's' || !row.stamped)).toEqual([])
  })
})
