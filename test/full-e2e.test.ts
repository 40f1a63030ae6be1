/**
 * `gingr-sync full` through the compiled binary, as cron runs it, against the simulator over real
 * HTTP and a real PostgreSQL: the log block, --json, the exit codes, the run history, pings,
 * --dry-run, the GET fallback, the guard, the hourly run's lock. Every output is searched for the
 * API key and the database password (test/_faults.ts's gingrSync does it on every run).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { TEST_TIMING } from './_binary.ts'
import { reserveConnection } from './_db.ts'
import { type Bed, type Beds, errorLines, gingrSync, snapshot, startBeds, startRun } from './_faults.ts'
import { fullTruth } from './_full-truth.ts'

setDefaultTimeout(90_000)

let beds: Beds

beforeAll(async () => {
  beds = await startBeds('full-e2e')
})
afterAll(async () => {
  await beds?.stop()
})

const ZONE = 'America/Denver'

/** `full --tenant <the bed's> --json ...`: the exit code, the tenant's entry, stderr's lines. */
async function full(bed: Bed, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const result = await gingrSync(bed, ['full', '--tenant', bed.tenant, '--json', ...args], env)
  const report = JSON.parse(result.stdout)
  return { result, report, tenant: report.tenants[0], lines: result.stderr.trim().split('\n') }
}

/** A log line's message, without its timestamp and level. */
const messages = (lines: string[]) => lines.map((line) => line.replace(/^\S+ (INFO |WARN |ERROR) /, ''))

/** A monitor that records what it hears. */
function monitor() {
  const heard: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      heard.push(new URL(req.url).pathname)
      return new Response('OK')
    },
  })
  return { url: `http://127.0.0.1:${server.port}/hc/full`, heard, stop: () => server.stop(true) }
}

describe.concurrent('gingr-sync full', () => {
  test('the first run: the block operators know, one JSON object, the run history; then an unchanged rerun writes nothing', async () => {
    const bed = await beds.bed({ owners: 35, animals: 50 })
    const first = await full(bed)
    expect(first.result.code).toBe(0)
    const created = { customers: first.tenant.customers.created, pets: first.tenant.pets.created }
    // The bed's hourly sync made the owners and animals of its window already: the rest are new.
    expect(created.customers).toBeGreaterThan(0)
    expect(messages(first.lines)).toEqual([
      '🔄 Starting Full Gingr Sync: owners and animals',
      `   Tenant: Fault Matrix Kennels (${bed.tenant})`,
      '👥 Fetching owners, animals, breeds and species...',
      '   Found 35 owners and 50 animals in Gingr (16 breeds, 6 species)',
      `✅ Customers: ${created.customers} created, ${35 - created.customers} updated, 0 unchanged, 0 linked, 0 skipped`,
      `✅ Pets: ${created.pets} created, ${50 - created.pets} updated, 0 unchanged, 0 skipped`,
      expect.stringMatching(/^✅ Full sync complete in \d+\.\ds$/),
    ])
    expect(first.report.ok).toBe(true)
    expect(first.tenant).toMatchObject({
      tenantId: bed.tenant,
      status: 'synced',
      dryRun: false,
      fetched: { owners: 35, animals: 50 },
      missing: { customers: [], pets: [], deactivated: { customers: 0, pets: 0 }, withheld: false },
      emailConflicts: [],
      invalid: [],
    })
    const { expected, stored } = await fullTruth(bed.db.sql, bed.tenant, bed.sim, ZONE)
    expect(stored).toEqual(expected)
    const [run] = await bed.db.sql`
      SELECT kind, status, statements, customers_created, pets_created FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
    expect(run).toEqual({
      kind: 'full',
      status: 'synced',
      statements: first.tenant.statements,
      customers_created: created.customers,
      pets_created: created.pets,
    })

    const before = await snapshot(bed.db.sql, bed.tenant)
    const again = await full(bed)
    expect(again.result.code).toBe(0)
    expect(again.tenant.customers).toEqual({ created: 0, updated: 0, unchanged: 35, linked: 0, skipped: 0 })
    expect(again.tenant.pets).toEqual({ created: 0, updated: 0, unchanged: 50, skipped: 0 })
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
  })

  test('--dry-run: the exact counts of the real run, nothing written, no history, no ping', async () => {
    const bed = await beds.bed({ owners: 20, animals: 30 })
    const heard = monitor()
    try {
      const before = await snapshot(bed.db.sql, bed.tenant)
      const runs = async () =>
        (await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant}`)[0]!.n
      const runsBefore = await runs()
      const dry = await full(bed, ['--dry-run', '--ping-url', heard.url])
      expect(dry.result.code).toBe(0)
      expect(messages(dry.lines)[0]).toBe('🔄 Starting Full Gingr Sync: owners and animals (dry run: nothing will be written)')
      expect(messages(dry.lines)).toContain('🧪 Dry run: every change above was rolled back; nothing was written.')
      expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
      expect(await runs()).toBe(runsBefore)
      expect(heard.heard).toEqual([])
      const real = await full(bed, ['--ping-url', heard.url])
      const strip = (tenant: Record<string, unknown>) => ({ ...tenant, durationMs: 0, dryRun: false })
      expect(strip(dry.tenant)).toEqual(strip(real.tenant))
      expect(heard.heard).toEqual(['/hc/full/start', '/hc/full'])
    } finally {
      heard.stop()
    }
  })

  test('invalid records: each a warning, the rest written, exit 3; past half of the owners, the tenant fails (exit 1, the fail ping)', async () => {
    const bed = await beds.bed({ owners: 12, animals: 12 })
    const [badOwner] = [...bed.sim.account.owners.keys()]
    const owner = bed.sim.account.owners.get(badOwner!)!
    bed.sim.account.owners.set(badOwner!, { ...owner, id: '12ab' })
    const partial = await full(bed)
    expect(partial.result.code).toBe(3)
    expect(messages(partial.lines)).toContain(
      '⚠️  Skipped invalid owner (no readable id): id: Invalid id: expected a whole number of at most 20 digits, received "12ab"',
    )
    expect(partial.tenant.customers.skipped).toBe(1)

    for (const id of [...bed.sim.account.owners.keys()].slice(1, 8))
      bed.sim.account.owners.set(id, { ...bed.sim.account.owners.get(id)!, first_name: null as unknown as string })
    const heard = monitor()
    try {
      const before = await snapshot(bed.db.sql, bed.tenant)
      const failed = await full(bed, ['--ping-url', heard.url])
      expect(failed.result.code).toBe(1)
      expect(failed.report.ok).toBe(false)
      expect(errorLines(failed.result).map((line) => line.replace(/^\S+ ERROR /, ''))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^❌ Full sync failed for Fault Matrix Kennels \\(${bed.tenant}\\) after \\d+\\.\\ds: 8 of the 12 owners Gingr sent are invalid \\(more than 50%\\): nothing was written, as most of them would be missing\\.$`,
          ),
        ),
        '   Nothing was written for this tenant.',
      ])
      expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
      expect(heard.heard).toEqual(['/hc/full/start', '/hc/full/fail'])
      const [run] = await bed.db
        .sql`SELECT kind, status, error FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
      expect(run).toMatchObject({ kind: 'full', status: 'failed', error: expect.stringMatching(/^8 of the 12 owners/) })
    } finally {
      heard.stop()
    }
  })

  test('an account that refuses POST on /owners and /animals is asked by GET; a failure then shows no key', async () => {
    const bed = await beds.bed({ owners: 10, animals: 15, getOnly: ['/owners', '/animals'] })
    const ok = await full(bed)
    expect(ok.result.code).toBe(0)
    expect(ok.tenant.fetched).toEqual({ owners: 10, animals: 15 })
    const asked = bed.sim.requests
      .filter((r) => r.endpoint === '/owners' || r.endpoint === '/animals')
      .map((r) => `${r.method} ${r.endpoint} ${r.status}`)
    expect(asked.slice(-4)).toEqual(['POST /owners 405', 'GET /owners 200', 'POST /animals 405', 'GET /animals 200'])

    // The POST refused, then the GET answered by a proxy that echoes the URL it was asked, key and all.
    const echo = JSON.stringify({ success: false, error: `upstream failed for ${bed.sim.baseUrl}/owners?key=${bed.sim.apiKey}` })
    bed.sim.faults.add({ endpoint: '/owners', times: 1, fault: { kind: 'status', status: 405 } })
    bed.sim.faults.add({ endpoint: '/owners', fault: { kind: 'status', status: 502, body: echo } })
    const failed = await full(bed)
    expect(failed.result.code).toBe(1)
    expect(failed.tenant.error).toMatch(
      /^Gingr \/owners failed after 4 attempts: HTTP 502 \(Bad Gateway: "upstream failed for .*\[redacted\]"\) \(asked by GET after POST was refused with HTTP 405\)\.$/,
    )
  })

  test('--deactivate-missing: deactivated within the guard; beyond it, withheld with a warning and exit 3', async () => {
    const bed = await beds.bed({ owners: 30, animals: 40 })
    await full(bed)
    const [gone] = [...bed.sim.account.owners.keys()]
    const itsAnimals = bed.sim.account.deleteOwner(gone!)
    const reported = await full(bed)
    expect(reported.result.code).toBe(0)
    expect(messages(reported.lines)).toContain(
      `   No longer in Gingr: 1 customer, ${itsAnimals.length === 1 ? '1 pet' : `${itsAnimals.length} pets`} (reported only; --deactivate-missing sets "isActive" = false)`,
    )
    const done = await full(bed, ['--deactivate-missing'])
    expect(done.result.code).toBe(0)
    expect(done.tenant.missing.deactivated).toEqual({ customers: 1, pets: itsAnimals.length })
    expect(messages(done.lines)).toContain(`   Owners no longer listed: ${gone}`)

    for (const id of [...bed.sim.account.owners.keys()].slice(0, 15)) bed.sim.account.deleteOwner(id)
    const before = await snapshot(bed.db.sql, bed.tenant)
    const withheld = await full(bed, ['--deactivate-missing'])
    expect(withheld.result.code).toBe(3)
    expect(withheld.tenant.missing.withheld).toBe(true)
    expect(messages(withheld.lines)).toContain(
      "⚠️  15 owners are no longer in Gingr's answer, more than the 10 one run may deactivate: none deactivated. If Gingr really lost them, raise --max-deactivate.",
    )
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
    const raised = await full(bed, ['--deactivate-missing', '--max-deactivate', '100'])
    expect(raised.result.code).toBe(0)
    expect(raised.tenant.missing.deactivated.customers).toBe(15)
  })

  test("a full run waits while the hourly run's lock is held, then writes", async () => {
    const bed = await beds.bed({ owners: 8, animals: 8 })
    const holder = await reserveConnection(bed.db.sql)
    try {
      await holder`BEGIN`
      await holder`SELECT pg_advisory_xact_lock(hashtext('gingr-sync'), hashtext(${bed.tenant}))`
      const run = await startRun(bed, ['full', '--tenant', bed.tenant, '--json'])
      // Its fetch done (the species look-up comes last), then long enough for a few more tries at
      // the lock (it polls every TEST_TIMING.lockPollMs).
      while (!bed.sim.requests.some((r) => r.endpoint === '/get_species') && run.proc.exitCode === null) await Bun.sleep(20)
      await Bun.sleep(4 * TEST_TIMING.lockPollMs)
      expect(run.proc.exitCode).toBeNull()
      await holder`ROLLBACK`
      const result = await run.done
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout).tenants[0].status).toBe('synced')
    } finally {
      holder.release()
    }
  })

  test('usage errors are exit 2, one sentence, nothing done', async () => {
    const bed = await beds.bed({ owners: 2, animals: 2 })
    const cases: Array<[string[], string]> = [
      [['full', '--tenant', 'no-such-tenant'], 'Tenant no-such-tenant does not exist.'],
      [['full', '--max-deactivate', 'many'], '--max-deactivate must be a whole number from 0 to 10000000, not "many".'],
      [['full', '--timeout', '0'], '--timeout must be a whole number from 1 to 600, not "0".'],
      [['full', '--past-days', '3'], 'Unknown option --past-days. See: gingr-sync full --help'],
    ]
    for (const [args, sentence] of cases) {
      const result = await gingrSync(bed, args)
      expect(result.code).toBe(2)
      expect(errorLines(result).map((line) => line.replace(/^\S+ ERROR /, ''))).toEqual([sentence])
    }
    const help = await gingrSync(bed, ['full', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('gingr-sync full')
    expect(help.stdout).toContain('--deactivate-missing')
    expect((await gingrSync(bed, ['--help'])).stdout).toContain('full')
  })

  test('SIGTERM while Gingr hangs on /animals: exit 143 at once, nothing written, the run recorded as stopped', async () => {
    const bed = await beds.bed({ owners: 6, animals: 6 })
    bed.sim.account.changeOwner([...bed.sim.account.owners.keys()][0]!, { city: 'Nederland' })
    const before = await snapshot(bed.db.sql, bed.tenant)
    bed.sim.faults.add({ endpoint: '/animals', fault: { kind: 'hang' } })
    try {
      const asked = () => bed.sim.requests.filter((r) => r.endpoint === '/animals').length
      const since = asked()
      const { proc, done } = await startRun(bed, ['full', '--tenant', bed.tenant])
      while (asked() === since) await Bun.sleep(20)
      const sent = performance.now()
      proc.kill('SIGTERM')
      const result = await done
      expect(performance.now() - sent).toBeLessThan(10_000)
      expect(result.code).toBe(143)
      expect(result.stderr).toContain(
        'Stopped by SIGTERM: the tenants in flight are rolled back; tenants synced before the stop stay synced.',
      )
    } finally {
      bed.sim.faults.clear()
    }
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
    const [run] = await bed.db.sql`SELECT kind, status, error FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
    expect(run).toEqual({ kind: 'full', status: 'failed', error: "Stopped by SIGTERM: the tenant's open transaction was rolled back." })
  })

  test('--max-runtime: past it the tenant in flight is rolled back, exit 4', async () => {
    const bed = await beds.bed({ owners: 6, animals: 6 })
    bed.sim.faults.add({ endpoint: '/owners', fault: { kind: 'hang' } })
    try {
      const result = await gingrSync(bed, ['full', '--tenant', bed.tenant, '--max-runtime', '1'])
      expect(result.code).toBe(4)
      expect(errorLines(result)[0]).toMatch(/Stopped at the run's time limit \(--max-runtime 1 s\): the tenant in flight is rolled back/)
    } finally {
      bed.sim.faults.clear()
    }
  })
})
