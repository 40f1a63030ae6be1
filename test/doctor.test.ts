/**
 * `gingr-sync doctor` against a real PostgreSQL and the simulator over real HTTP: the core
 * (`runDoctor`) for what each check finds, the CLI from source for exit codes and output.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { loadSettings } from '../src/config.ts'
import { freePort } from '../src/dev/embedded-postgres.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { type Check, type DoctorOptions, runDoctor } from '../src/sync/doctor.ts'
import { runSource } from './_binary.ts'
import { freshDatabase, migratedDatabase, type TestDatabase } from './_db.ts'
import { testDir } from './_tmp.ts'
import { insertTenant } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const PASSWORD = 'doc-Secret-pw-5512'
const dir = testDir('doctor')
let sim: Simulator
let healthy: TestDatabase
const databases: TestDatabase[] = []

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, apiKey: 'doctor-key-93ab1f' })
  healthy = await database()
  await insertTenant(healthy.sql, { id: 'd1', businessName: 'Denver Dogs' })
  await insertTenant(healthy.sql, { id: 'd2', businessName: 'Paused Place', status: 'PAUSED' })
})
afterAll(async () => {
  await sim?.stop()
  await Promise.all(databases.map((db) => db.drop()))
})

async function database(fresh = false): Promise<TestDatabase> {
  const db = fresh ? await freshDatabase() : await migratedDatabase()
  databases.push(db)
  return db
}

/** A password in the URL: trust authentication ignores it, and no output may ever show it. */
function withPassword(url: string): string {
  const u = new URL(url)
  if (!u.password) u.password = PASSWORD
  return u.toString()
}

const passwordOf = (url: string | undefined) => (url && URL.canParse(url) ? decodeURIComponent(new URL(url).password) : PASSWORD)

const goodEnv = (db: TestDatabase = healthy): Record<string, string | undefined> => ({
  DATABASE_URL: withPassword(db.url),
  GINGR_API_KEY: sim.apiKey,
  GINGR_BASE_URL: sim.baseUrl,
})

function doctor(env: Record<string, string | undefined>, options: Partial<DoctorOptions> = {}) {
  // Short backoff: the retry is what is tested, not the wait before it.
  return runDoctor({ settings: loadSettings({ env }), gingr: { timeoutMs: 5000, backoffBaseMs: 10, backoffMaxMs: 20 }, ...options })
}

/** name → state, in order: the shape of a report at a glance. */
const states = (checks: Check[]) => checks.map((c) => [c.name, c.state])

function reservationTypeRequests(s: Simulator): number {
  return s.requests.filter((r) => r.endpoint === '/reservation_types').length
}

describe('runDoctor', () => {
  test('a healthy set-up passes every check, in order, and probes only enabled tenants', async () => {
    const before = reservationTypeRequests(sim)
    const report = await doctor(goodEnv())
    expect(states(report.checks)).toEqual([
      ['DATABASE_URL', 'pass'],
      ['Gingr settings', 'pass'],
      ['Database reachable', 'pass'],
      ['Database schema', 'pass'],
      ['Tenant Denver Dogs (d1)', 'pass'],
    ])
    expect(report.ok).toBe(true)
    const { username, host, pathname } = new URL(healthy.url)
    expect(report.checks[0]!.detail).toBe(`postgres://${username}:***@${host}${pathname}`)
    expect(report.checks[4]!.detail).toMatch(/^Gingr at 127\.0\.0\.1:\d+ accepted the API key \(\d+ reservation types\)$/)
    expect(reservationTypeRequests(sim) - before).toBe(1)
    for (const secret of [passwordOf(goodEnv().DATABASE_URL), sim.apiKey]) expect(JSON.stringify(report)).not.toContain(secret)
  })

  test('tenants sharing an account share one call to Gingr', async () => {
    const db = await database()
    for (const id of ['s1', 's2', 's3']) await insertTenant(db.sql, { id, businessName: `Shared ${id}` })
    const before = reservationTypeRequests(sim)
    const report = await doctor(goodEnv(db))
    expect(states(report.checks).slice(4)).toEqual([
      ['Tenant Shared s1 (s1)', 'pass'],
      ['Tenant Shared s2 (s2)', 'pass'],
      ['Tenant Shared s3 (s3)', 'pass'],
    ])
    expect(reservationTypeRequests(sim) - before).toBe(1)
  })

  test('a wrong key fails the tenant, says the key was rejected, and never shows it', async () => {
    const report = await doctor({ ...goodEnv(), GINGR_API_KEY: 'wrong-key-77c1' })
    expect(report.ok).toBe(false)
    const tenant = report.checks.at(-1)!
    expect(tenant).toMatchObject({ name: 'Tenant Denver Dogs (d1)', state: 'fail' })
    expect(tenant.detail).toContain('HTTP 401')
    expect(tenant.fix).toContain('Check the API key')
    expect(JSON.stringify(report)).not.toContain('wrong-key-77c1')
  })

  test('Gingr answering 503 fails after two attempts and says to try later', async () => {
    const before = reservationTypeRequests(sim)
    sim.faults.add({ endpoint: '/reservation_types', fault: { kind: 'status', status: 503 } })
    try {
      const tenant = (await doctor(goodEnv())).checks.at(-1)!
      expect(tenant.state).toBe('fail')
      expect(tenant.detail).toContain('failed after 2 attempts: HTTP 503')
      expect(tenant.fix).toContain('run doctor again later')
      expect(reservationTypeRequests(sim) - before).toBe(2)
    } finally {
      sim.faults.clear()
    }
  })

  test('Gingr unreachable (the simulator stopped) says to check the network and the URL', async () => {
    const gone = await startSimulator({ seed: 6 })
    await gone.stop()
    const tenant = (await doctor({ ...goodEnv(), GINGR_BASE_URL: gone.baseUrl, GINGR_API_KEY: gone.apiKey })).checks.at(-1)!
    expect(tenant.state).toBe('fail')
    expect(tenant.detail).toContain('a network error')
    expect(tenant.fix).toMatch(/Check that this server can reach 127\.0\.0\.1:\d+/)
  })

  test.each([
    [
      'DATABASE_URL missing',
      { DATABASE_URL: undefined },
      [
        ['DATABASE_URL', 'fail'],
        ['Gingr settings', 'pass'],
        ['Database reachable', 'skip'],
        ['Database schema', 'skip'],
        ['Gingr credentials', 'skip'],
      ],
    ],
    [
      'DATABASE_URL not postgres',
      { DATABASE_URL: 'mysql://root@localhost/db' },
      [
        ['DATABASE_URL', 'fail'],
        ['Gingr settings', 'pass'],
        ['Database reachable', 'skip'],
        ['Database schema', 'skip'],
        ['Gingr credentials', 'skip'],
      ],
    ],
    [
      'GINGR_API_KEY missing',
      { GINGR_API_KEY: undefined },
      [
        ['DATABASE_URL', 'pass'],
        ['Gingr settings', 'fail'],
        ['Database reachable', 'pass'],
        ['Database schema', 'pass'],
        ['Tenant Denver Dogs (d1)', 'skip'],
      ],
    ],
    [
      'no subdomain nor base URL',
      { GINGR_BASE_URL: undefined },
      [
        ['DATABASE_URL', 'pass'],
        ['Gingr settings', 'fail'],
        ['Database reachable', 'pass'],
        ['Database schema', 'pass'],
        ['Tenant Denver Dogs (d1)', 'skip'],
      ],
    ],
  ] as const)('%s: the check fails and what depends on it is skipped', async (_name, change, expected) => {
    const report = await doctor({ ...goodEnv(), ...change })
    expect(report.ok).toBe(false)
    expect(states(report.checks)).toEqual(expected.map(([name, state]) => [name, state]))
    const failed = report.checks.filter((c) => c.state === 'fail')
    for (const check of failed) expect(check.fix).toBeTruthy()
  })

  test('a tenant with its own account in the config file is probed with it', async () => {
    const db = await database()
    await insertTenant(db.sql, { id: 'own', businessName: 'Own Account' })
    const config = dir.write('own.json', JSON.stringify({ tenants: { own: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } } }))
    const settings = loadSettings({ env: { DATABASE_URL: db.url }, configPath: config })
    const report = await runDoctor({ settings, configPath: config })
    expect(states(report.checks)).toEqual([
      ['DATABASE_URL', 'pass'],
      ['Gingr settings', 'pass'],
      ['Database reachable', 'pass'],
      ['Database schema', 'pass'],
      ['Tenant Own Account (own)', 'pass'],
      ['Config file permissions', 'pass'],
    ])
    chmodSync(config, 0o640)
    const open = await runDoctor({ settings, configPath: config })
    expect(open.checks.at(-1)).toMatchObject({ state: 'fail', fix: `chmod 600 ${config}` })
  })

  test('a database that is down fails reachability and skips the rest', async () => {
    const report = await doctor({ ...goodEnv(), DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/gingr` })
    expect(states(report.checks)).toEqual([
      ['DATABASE_URL', 'pass'],
      ['Gingr settings', 'pass'],
      ['Database reachable', 'fail'],
      ['Database schema', 'skip'],
      ['Gingr credentials', 'skip'],
    ])
    expect(report.checks[2]!.detail).toContain('refused the connection')
    expect(JSON.stringify(report)).not.toContain(PASSWORD)
  })

  test('a database without the schema says to run migrate', async () => {
    const bare = await database(true)
    const report = await doctor(goodEnv(bare))
    expect(states(report.checks)).toEqual([
      ['DATABASE_URL', 'pass'],
      ['Gingr settings', 'pass'],
      ['Database reachable', 'pass'],
      ['Database schema', 'fail'],
      ['Gingr credentials', 'skip'],
    ])
    expect(report.checks[3]!.detail).toMatch(/is missing: run `gingr-sync migrate`\..*\(and \d+ more\)$/)
    expect(report.checks[3]!.fix).toContain('Run `gingr-sync migrate`')
  })

  test('a schema that lacks only the run history still has its tenants probed', async () => {
    const db = await database()
    await insertTenant(db.sql, { id: 'nr', businessName: 'No Runs' })
    await db.sql`DROP TABLE gingr_sync_runs`
    const report = await doctor(goodEnv(db))
    expect(states(report.checks).slice(3)).toEqual([
      ['Database schema', 'fail'],
      ['Tenant No Runs (nr)', 'pass'],
    ])
    expect(report.checks[3]!.detail).toBe('The table gingr_sync_runs is missing: run `gingr-sync migrate`.')
  })

  test('no enabled tenant is a failure: the hourly job would do nothing', async () => {
    const db = await database()
    await insertTenant(db.sql, { id: 'off', gingr_sync_enabled: false })
    const report = await doctor(goodEnv(db))
    expect(report.checks.at(-1)).toMatchObject({ name: 'Enabled tenants', state: 'fail' })
    expect(report.checks.at(-1)!.fix).toContain('UPDATE tenants SET gingr_sync_enabled = true')
  })

  test('a tenant whose id and name hold control characters is named on one line', async () => {
    const db = await database()
    await insertTenant(db.sql, { id: 'line\nERROR forged', businessName: 'Esc\u001b[2JKennels', timezone: 'Mars/Olympus_Mons' })
    const tenant = (await doctor(goodEnv(db))).checks.at(-1)!
    expect(tenant.name).toBe('Tenant Esc [2JKennels (line ERROR forged)')
  })

  test('a tenant with an unknown time zone fails before Gingr is asked', async () => {
    const db = await database()
    await insertTenant(db.sql, { id: 'tz', businessName: 'Nowhere', timezone: 'Mars/Olympus_Mons' })
    const before = reservationTypeRequests(sim)
    const tenant = (await doctor(goodEnv(db))).checks.at(-1)!
    expect(tenant).toMatchObject({ name: 'Tenant Nowhere (tz)', state: 'fail', detail: 'its time zone "Mars/Olympus_Mons" is unknown.' })
    expect(reservationTypeRequests(sim)).toBe(before)
  })

  test.each([
    ['644', 'fail', 'is open to group or others (mode 644)'],
    ['640', 'fail', 'is open to group or others (mode 640)'],
    ['604', 'fail', 'is open to group or others (mode 604)'],
    ['600', 'pass', 'is private (mode 600)'],
    ['400', 'pass', 'is private (mode 400)'],
  ] as const)('an env file of mode %s: %s', async (mode, state, words) => {
    const envFile = dir.write(`mode-${mode}.env`, 'DATABASE_URL=postgres://localhost/x\n', parseInt(mode, 8))
    const check = (await doctor(goodEnv(), { envFile })).checks.at(-1)!
    expect(check).toMatchObject({ name: 'Env file permissions', state })
    expect(check.detail).toContain(words)
    if (state === 'fail') expect(check.fix).toBe(`chmod 600 ${envFile}`)
  })
})

describe('the command', () => {
  test('a healthy set-up exits 0 with a ✓ per check', async () => {
    const envFile = dir.write(
      'healthy.env',
      `${Object.entries(goodEnv())
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    )
    const result = await gingrSync(['doctor', '--env-file', envFile], {})
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines.slice(0, 6).map((l) => l.split(':')[0])).toEqual([
      '✓ DATABASE_URL',
      '✓ Gingr settings',
      '✓ Database reachable',
      '✓ Database schema',
      '✓ Tenant Denver Dogs (d1)',
      '✓ Env file permissions',
    ])
    expect(lines.at(-1)).toBe('All 6 checks passed.')
  })

  test('a wrong key exits 1, with the fix under the ✗ and no secret anywhere', async () => {
    const result = await gingrSync(['doctor'], { ...goodEnv(), GINGR_API_KEY: 'wrong-key-77c1' })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^✗ Tenant Denver Dogs \(d1\): .*HTTP 401.*\n {4}→ Check the API key/m)
    expect(result.stdout).toContain('1 of 5 checks failed.')
    expect(result.stdout + result.stderr).not.toContain('wrong-key-77c1')
  })

  test('a database that is down exits 1, reports the rest as skipped, no password shown', async () => {
    const result = await gingrSync(['doctor'], {
      ...goodEnv(),
      DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/gingr`,
    })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^✓ DATABASE_URL: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/gingr$/m)
    expect(result.stdout).toMatch(/^✗ Database reachable: PostgreSQL at 127\.0\.0\.1:\d+\/gingr refused the connection/m)
    expect(result.stdout).toContain('— Database schema: skipped (the database is not reachable)')
    expect(result.stdout).toContain('1 of 5 checks failed, 2 skipped.')
  })

  test('an env file of mode 644 exits 1 and says chmod 600', async () => {
    const envFile = dir.write(
      'open.env',
      `${Object.entries(goodEnv())
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      0o644,
    )
    const result = await gingrSync(['doctor', '--env-file', envFile, '--json'], {})
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report.ok).toBe(false)
    expect(report.checks.at(-1)).toEqual({
      name: 'Env file permissions',
      state: 'fail',
      detail: `${envFile} holds secrets and is open to group or others (mode 644).`,
      fix: `chmod 600 ${envFile}`,
    })
  })

  test('a missing setting exits 1 and names it', async () => {
    const result = await gingrSync(['doctor'], { ...goodEnv(), GINGR_API_KEY: undefined })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('✗ Gingr settings: GINGR_API_KEY is not set: put it in the env file (--env-file) or the environment.')
    expect(result.stdout).toContain('— Tenant Denver Dogs (d1): skipped (no Gingr account is configured, see Gingr settings)')
  })

  test('an env file that does not exist is a usage error (exit 2)', async () => {
    const result = await gingrSync(['doctor', '--env-file', join(dir.path, 'nope.env')], {})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('it does not exist')
  })
})

/** The CLI from source, with exactly `env` (plus PATH, HOME), as cron runs it. */
async function gingrSync(args: string[], env: Record<string, string | undefined>) {
  const { code, stdout, stderr } = await runSource(args, env)
  const secrets = [PASSWORD, passwordOf(goodEnv().DATABASE_URL), passwordOf(env.DATABASE_URL), sim.apiKey].filter((s) => s !== '')
  for (const secret of secrets) expect(stdout + stderr).not.toContain(secret)
  return { code, stdout, stderr }
}
