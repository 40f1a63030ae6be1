/**
 * The compiled binary, run as cron runs it (a clean environment, no terminal), against the
 * simulator over real HTTP and a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { syncWindow } from '../src/sync/window.ts'
import { binary, type RunResult, runBinary } from './_binary.ts'
import { migratedDatabase, reserveConnection, type TestDatabase } from './_db.ts'
import { waitForLock } from './_faults.ts'
import { testDir } from './_tmp.ts'
import { insertTenant } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
const PASSWORD = 'pw-e2e-Secret-9931'
let sim: Simulator
let db: TestDatabase
let env: Record<string, string>
const dir = testDir('e2e')

beforeAll(async () => {
  await binary()
  sim = await startSimulator({ seed: 31, reservations: 150, owners: 50, animals: 80, timeZone: ZONE, apiKey: 'e2e-key-7f3a9c' })
  db = await migratedDatabase()
  env = {
    DATABASE_URL: withPassword(db.url, PASSWORD),
    GINGR_SUBDOMAIN: 'denver-dog-ranch',
    GINGR_API_KEY: sim.apiKey,
    GINGR_BASE_URL: sim.baseUrl,
  }
})
afterAll(async () => {
  await sim?.stop()
  await db?.drop()
})

/** A password in the URL: trust authentication ignores it, and no output may ever show it. */
function withPassword(url: string, password: string): string {
  const u = new URL(url)
  if (!u.password) u.password = password
  return u.toString()
}

function secretsIn(result: RunResult): string[] {
  const password = decodeURIComponent(new URL(env.DATABASE_URL!).password)
  return [sim.apiKey, password].filter((secret) => result.stdout.includes(secret) || result.stderr.includes(secret))
}

async function gingrSync(args: string[], extra: Record<string, string | undefined> = {}): Promise<RunResult> {
  const result = await runBinary(args, { ...env, ...extra })
  expect(secretsIn(result)).toEqual([])
  return result
}

async function versions(tenantId: string): Promise<string[]> {
  const rows = await db.sql<{ v: string }[]>`
    SELECT id || ':' || xmin::text AS v FROM reservations WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT id || ':' || xmin::text FROM customers WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT id || ':' || xmin::text FROM pets WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT id || ':' || xmin::text FROM services WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT id || ':' || xmin::text FROM tenants WHERE id = ${tenantId}
    ORDER BY 1`
  return rows.map((r) => r.v)
}

const countReservations = async (tenantId: string) =>
  (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM reservations WHERE "tenantId" = ${tenantId}`)[0]!.n

const window = () => syncWindow(ZONE, 7, 30)

describe('one tenant by hand', () => {
  const tenant = 'b696b4e8-e2e-main'

  beforeAll(() => insertTenant(db.sql, { id: tenant, businessName: 'Denver Dog Ranch', timezone: ZONE }))

  test('the first sync prints the block operators know, timestamped, and one JSON object on stdout', async () => {
    const since = sim.requests.length
    // Production's timing: the tests' short waits (test/_binary.ts) must be theirs alone.
    const result = await gingrSync(['--tenant', tenant, '--json'], { GINGR_SYNC_TEST_TIMING: undefined })
    expect(result.code).toBe(0)
    // Gingr's pace: at least 150 ms from the first chunk's answer to the second chunk's request.
    const [firstChunk, secondChunk] = sim.requests.slice(since).filter((r) => r.endpoint === '/reservations')
    expect(secondChunk!.at - firstChunk!.at).toBeGreaterThanOrEqual(145)
    const truth = sim.account.matching(window().from, window().to).length
    const lines = result.stderr.trim().split('\n')
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) /)
    expect(result.stderr).toContain('🔄 Starting Incremental Gingr Sync')
    expect(result.stderr).toContain(`Tenant: Denver Dog Ranch (${tenant})`)
    expect(result.stderr).toContain(`📅 Fetching reservations from ${window().from} to ${window().to}...`)
    expect(result.stderr).toContain(`Found ${truth} reservations in Gingr`)
    expect(result.stderr).toContain(`✅ Reservations: ${truth} created, 0 updated, 0 unchanged, 0 skipped, 0 errors`)
    expect(result.stderr).toMatch(/✅ Sync complete in \d+\.\ds/)

    const report = JSON.parse(result.stdout)
    expect(report.ok).toBe(true)
    expect(report.tenants).toHaveLength(1)
    expect(report.tenants[0]).toMatchObject({
      tenantId: tenant,
      businessName: 'Denver Dog Ranch',
      status: 'synced',
      dryRun: false,
      window: window(),
      fetched: truth,
      reservations: { created: truth, updated: 0, unchanged: 0, skipped: 0, errors: 0 },
      invalid: [],
    })
    expect(typeof report.tenants[0].durationMs).toBe('number')
    expect(await countReservations(tenant)).toBe(truth)
  })

  test('an unchanged rerun writes no row at all', async () => {
    const before = await versions(tenant)
    const result = await gingrSync(['--tenant', tenant])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/Reservations: 0 created, 0 updated, \d+ unchanged/)
    // The tenant's stamp moves (its row gets a new version); nothing else does.
    const after = await versions(tenant)
    expect(after.filter((v) => !before.includes(v)).map((v) => v.split(':')[0])).toEqual([tenant])
  })

  test('changes made in Gingr are applied on the next run', async () => {
    const [a] = sim.account.matching(window().from, window().to).filter((r) => !r.cancelled_date)
    sim.account.cancelReservation(a!.reservation_id)
    sim.account.addReservation()
    const result = await gingrSync(['--tenant', tenant, '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).tenants[0].reservations).toMatchObject({ created: 1, updated: 1 })
    const [row] = await db.sql<
      { status: string }[]
    >`SELECT status::text FROM reservations WHERE "tenantId" = ${tenant} AND "externalId" = ${a!.reservation_id}`
    expect(row?.status).toBe('CANCELLED')
  })

  test('--dry-run does the whole run and writes nothing', async () => {
    sim.account.addReservation()
    const before = await versions(tenant)
    const result = await gingrSync(['--tenant', tenant, '--dry-run', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).tenants[0]).toMatchObject({ dryRun: true, reservations: { created: 1 } })
    expect(result.stderr).toContain('nothing was written')
    expect(await versions(tenant)).toEqual(before)
  })

  test('a failure in the second chunk writes nothing, exits 1 and says what failed', async () => {
    const before = await versions(tenant)
    const w = syncWindow(ZONE, 7, 40)
    sim.faults.add({ endpoint: '/reservations', when: (req) => req.params.start_date !== w.from, fault: { kind: 'status', status: 502 } })
    try {
      const result = await gingrSync(['--tenant', tenant, '--future-days', '40', '--timeout', '5'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/ERROR .*Sync failed for Denver Dog Ranch.*502/)
      expect(result.stderr).not.toContain('    at ')
    } finally {
      sim.faults.clear()
    }
    expect(await versions(tenant)).toEqual(before)
  })

  test('invalid records are skipped, the rest written, and the exit code is 3', async () => {
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'invalid-records', count: 2 } })
    const result = await gingrSync(['--tenant', tenant, '--json'])
    expect(result.code).toBe(3)
    const report = JSON.parse(result.stdout).tenants[0]
    expect(report.status).toBe('synced')
    expect(report.invalid).toHaveLength(2)
    expect(report.reservations.skipped).toBe(2)
    expect(result.stderr).toContain('Skipped invalid reservation')
  })

  test('two runs at once: the second finds the tenant locked, exits 0 and writes nothing', async () => {
    sim.account.addReservation()
    // Hold the tenant row so the first run waits inside its transaction, holding the tenant's lock.
    const holder = await reserveConnection(db.sql)
    await holder`BEGIN`
    await holder`SELECT 1 FROM tenants WHERE id = ${tenant} FOR UPDATE`
    const first = gingrSync(['--tenant', tenant, '--json'])
    await waitForLock(db.sql, tenant)
    const second = await gingrSync(['--tenant', tenant, '--json'])
    await holder`COMMIT`
    holder.release()
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout).tenants[0].status).toBe('locked')
    expect(second.stderr).toContain('another gingr-sync run is syncing this tenant')
    const done = await first
    expect(done.code).toBe(0)
    expect(JSON.parse(done.stdout).tenants[0].reservations.created).toBe(1)
  })

  test('SIGTERM inside the transaction rolls it back and exits 143', async () => {
    sim.account.addReservation()
    const before = await versions(tenant)
    const holder = await reserveConnection(db.sql)
    await holder`BEGIN`
    await holder`SELECT 1 FROM tenants WHERE id = ${tenant} FOR UPDATE`
    const proc = Bun.spawn([await binary(), '--tenant', tenant], {
      env: { ...env, PATH: process.env.PATH! },
      stderr: 'pipe',
      stdout: 'pipe',
    })
    await waitForLock(db.sql, tenant)
    const sent = performance.now()
    proc.kill('SIGTERM')
    const code = await proc.exited
    const elapsed = performance.now() - sent
    await holder`COMMIT`
    holder.release()
    expect(code).toBe(143)
    expect(elapsed).toBeLessThan(10_000)
    expect(await new Response(proc.stderr).text()).toContain('SIGTERM')
    expect(await versions(tenant)).toEqual(before)
  })
})

// The story above is told in order; what follows runs side by side: the exit codes sync nothing but
// the main tenant (by --tenant, which the run of every enabled tenant leaves out).
describe.concurrent('every enabled tenant, each on its own', () => {
  test('one failing tenant never stops the next; disabled ones are left out; exit 1', async () => {
    await db.sql`UPDATE tenants SET gingr_sync_enabled = false`
    await insertTenant(db.sql, { id: 'all-a', businessName: 'A Kennels', timezone: ZONE })
    await insertTenant(db.sql, { id: 'all-b', businessName: 'B Kennels', timezone: 'Europe/Berlin' })
    await insertTenant(db.sql, { id: 'all-c', businessName: 'C Kennels', timezone: 'Pacific/Auckland' })
    await insertTenant(db.sql, { id: 'all-off', businessName: 'Off Kennels', timezone: ZONE, gingr_sync_enabled: false })
    await insertTenant(db.sql, { id: 'all-paused', businessName: 'Paused Kennels', timezone: ZONE, status: 'PAUSED' })
    // B's Gingr account answers nothing: a closed port.
    const config = dir.write(
      'tenants.json',
      JSON.stringify({ tenants: { 'all-b': { baseUrl: 'http://127.0.0.1:9/api/v1', apiKey: 'other-key-1234' } } }),
    )

    const result = await gingrSync(['--config', config, '--json', '--timeout', '2'])
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report.ok).toBe(false)
    expect(report.tenants.map((t: { tenantId: string; status: string }) => `${t.tenantId}:${t.status}`)).toEqual([
      'all-a:synced',
      'all-b:failed',
      'all-c:synced',
    ])
    expect(result.stderr).toContain('Summary')
    expect(await countReservations('all-a')).toBeGreaterThan(0)
    expect(await countReservations('all-c')).toBeGreaterThan(0)
    expect(await countReservations('all-off')).toBe(0)
    expect(result.stdout + result.stderr).not.toContain('other-key-1234')
  })
})

describe.concurrent('exit codes and messages', () => {
  const cases: Array<[string, string[], Record<string, string | undefined>, number, RegExp]> = [
    ['an unknown flag', ['--tenant', 'x', '--frobnicate'], {}, 2, /Unknown option --frobnicate/],
    ['a malformed number', ['--past-days', 'soon'], {}, 2, /--past-days must be a whole number from 0 to 365, not "soon"/],
    ['a number out of range', ['--future-days', '400'], {}, 2, /--future-days must be a whole number/],
    ['a missing value', ['--tenant'], {}, 2, /--tenant needs a value/],
    ['an unknown command', ['frobnicate'], {}, 2, /Unknown command "frobnicate"/],
    ['a missing DATABASE_URL', ['--tenant', 'x'], { DATABASE_URL: undefined }, 2, /DATABASE_URL is not set/],
    ['a missing API key', ['--tenant', 'b696b4e8-e2e-main'], { GINGR_API_KEY: undefined }, 2, /GINGR_API_KEY is not set/],
    ['an unknown tenant', ['--tenant', 'no-such-tenant'], {}, 2, /Tenant no-such-tenant does not exist/],
    [
      'an unreadable env file',
      ['--env-file', '/nonexistent/gingr.env'],
      {},
      2,
      /Cannot read the env file \/nonexistent\/gingr.env: it does not exist/,
    ],
    [
      'a database that is down',
      ['--tenant', 'x'],
      { DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:9/db` },
      1,
      /database|PostgreSQL|connect/i,
    ],
  ]
  for (const [name, args, extra, code, message] of cases) {
    test(`${name}: exit ${code}, one sentence, no stack`, async () => {
      const result = await gingrSync(args, extra)
      expect(result.code).toBe(code)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).not.toContain('    at ')
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((l) => / ERROR /.test(l)),
      ).toHaveLength(1)
    })
  }

  test('a config file with bad JSON, and one with a bad shape, are exit 2', async () => {
    const bad = dir.write('bad.json', '{ "tenants": ')
    expect((await gingrSync(['--config', bad])).code).toBe(2)
    const shape = dir.write('shape.json', JSON.stringify({ tenants: { t: { pastDays: 'many' } } }))
    const result = await gingrSync(['--config', shape])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('is not valid at `pastDays` of tenant t')
  })

  test('--env-file supplies the settings', async () => {
    const file = dir.write(
      'gingr-sync.env',
      `# comment\nDATABASE_URL=${env.DATABASE_URL}\nexport GINGR_API_KEY="${sim.apiKey}"\nGINGR_SUBDOMAIN=x\nGINGR_BASE_URL=${sim.baseUrl}\n`,
    )
    const result = await runBinary(['--tenant', 'b696b4e8-e2e-main', '--env-file', file], {})
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('Sync complete')
  })

  test('--version names the version and the commit; --help lists the exit codes', async () => {
    const version = await gingrSync(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^gingr-sync \d+\.\d+\.\d+ \([0-9a-f]{7,}(-dirty)?\)\n$/)
    const help = await gingrSync(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--dry-run')
    expect(help.stdout).toContain('EXIT CODES')
    expect(help.stdout).toContain('migrate')
    // The tests' timing is not an operator's setting.
    expect(help.stdout + help.stderr).not.toContain('TIMING')
  })

  test('migrate is idempotent through the binary', async () => {
    const result = await gingrSync(['migrate'])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('nothing to do')
  })
})
