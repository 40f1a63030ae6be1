/**
 * The fault matrix, settings that are wrong for one tenant only and answers that are mostly garbage
 * (RELIABILITY.md), through the compiled binary: a bad tenant fails alone and the others sync;
 * garbage is a failure, never "synced"; every run ends, at --max-runtime at the latest.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { binary } from './_binary.ts'
import {
  API_KEY,
  type Bed,
  type Beds,
  errorLines,
  gingrSync,
  holdTenantRow,
  lastRun,
  snapshot,
  startBeds,
  startRun,
  waitForLock,
  waitForUnlock,
} from './_faults.ts'
import { testDir } from './_tmp.ts'
import { insertTenant } from './fixtures/tailtown.ts'

const dir = testDir('faults-settings')
let beds: Beds
/** The bed of the cases that sync every enabled tenant, one case at a time. */
let bed: Bed

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-settings')
  bed = await beds.bed()
})
afterAll(async () => {
  await beds?.stop()
})

/** Only the bed's tenant stays enabled between tests: each test enables the tenants it adds. */
async function disableOthers(): Promise<void> {
  await bed.db.sql`UPDATE tenants SET gingr_sync_enabled = (id = ${bed.tenant})`
}

// Without --tenant a run syncs every enabled tenant, another case's included: the cases that run so
// come first, one at a time (with --min-interval 0: the bed's tenant was synced a moment ago). The others run with --tenant, each on a bed of its own, side by side.
describe('a setting wrong for one tenant fails that tenant alone', () => {
  for (const timezone of ['UTC ', '', 'Mars/Olympus', '+99']) {
    test(`tenants.timezone ${JSON.stringify(timezone)}: that tenant fails with its sentence, the other syncs, exit 1`, async () => {
      await disableOthers()
      const bad = await insertTenant(bed.db.sql, { businessName: 'Zoneless Kennels', timezone })
      bed.sim.account.addReservation()
      const result = await gingrSync(bed, ['--min-interval', '0'])
      expect(result.code).toBe(1)
      expect(errorLines(result)).toContainEqual(
        expect.stringContaining(
          `Sync failed for Zoneless Kennels (${bad}) after 0.0s: Tenant Zoneless Kennels (${bad}): its time zone ${JSON.stringify(timezone)} (tenants.timezone) is not an IANA time zone`,
        ),
      )
      expect((await lastRun(bed.db.sql, bad))?.status).toBe('failed')
      expect(await lastRun(bed.db.sql, bed.tenant)).toEqual({ status: 'synced', error: null })
      expect(result.stderr).toContain('Summary')
    })
  }

  test('no key for one tenant (GINGR_API_KEY unset, the config gives the other one its key): it fails, the other syncs', async () => {
    await disableOthers()
    const keyless = await insertTenant(bed.db.sql, { businessName: 'Keyless Kennels' })
    const config = dir.write('keys.json', JSON.stringify({ tenants: { [bed.tenant]: { apiKey: API_KEY } } }))
    const result = await gingrSync(bed, ['--config', config, '--min-interval', '0'], { GINGR_API_KEY: undefined })
    expect(result.code).toBe(1)
    expect(errorLines(result).join('\n')).toContain(
      `Tenant Keyless Kennels (${keyless}): it has no Gingr API key: GINGR_API_KEY is not set, and the config file gives it none.`,
    )
    expect(await lastRun(bed.db.sql, bed.tenant)).toEqual({ status: 'synced', error: null })
  })

  test('a subdomain in one tenant’s config entry that is a host and a path: it fails, the other syncs', async () => {
    await disableOthers()
    const evil = await insertTenant(bed.db.sql, { businessName: 'Evil Kennels' })
    // No shared base URL, so that the tenant's own subdomain is what would be used.
    const tenants = { [evil]: { subdomain: 'evil.com/x' }, [bed.tenant]: { baseUrl: bed.sim.baseUrl } }
    const config = dir.write('evil.json', JSON.stringify({ tenants }))
    const result = await gingrSync(bed, ['--config', config, '--min-interval', '0'], { GINGR_BASE_URL: undefined })
    expect(result.code).toBe(1)
    expect(errorLines(result).join('\n')).toContain(
      `Tenant Evil Kennels (${evil}): its subdomain in the config file is not a Gingr subdomain`,
    )
    expect(await lastRun(bed.db.sql, bed.tenant)).toEqual({ status: 'synced', error: null })
  })
})

describe('settings and names that would leak or forge: through the binary', () => {
  test('a business name with a newline, ESC and CR: one log entry a line, no control character in the log or status', async () => {
    await disableOthers()
    const forged = await insertTenant(bed.db.sql, {
      businessName: 'Paws\n2026-01-01T00:00:00.000Z ERROR every tenant failed\u001b[2J\rOK',
      timezone: 'Mars/Olympus',
    })
    const result = await gingrSync(bed, ['--min-interval', '0'])
    expect(result.code).toBe(1)
    for (const line of result.stderr.trimEnd().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z (INFO|WARN|ERROR) /)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character is what must not be there
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
    // The forged "ERROR" stays inside the INFO entry it came in, on that entry's line.
    expect(result.stderr).toContain(`INFO     Tenant: Paws 2026-01-01T00:00:00.000Z ERROR every tenant failed [2J OK (${forged})`)
    expect(errorLines(result).filter((line) => line.includes('❌ Sync failed'))).toEqual([
      expect.stringContaining(`Sync failed for Paws 2026-01-01T00:00:00.000Z ERROR every tenant failed [2J OK (${forged})`),
    ])
    const status = await gingrSync(bed, ['status'])
    expect(status.stdout).toContain('Paws 2026-01-01T00:00:00.000Z ERROR every tenant failed [2J OK')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character is what must not be there
    expect(status.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
  })
})

// A stopped run is recorded twice, by the signal's handler and by the aborted fetch's failure, and
// which record is the tenant's last is a race in the run (src/commands/sync.ts) that a busy machine
// loses now and then: these cases run alone, as they did before the others ran side by side.
describe('every run ends', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    test(`${signal} while Gingr hangs: exit ${code}, and the run history says it was stopped`, async () => {
      const bed = await beds.bed()
      const before = await snapshot(bed.db.sql, bed.tenant)
      bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'hang' } })
      try {
        const since = bed.sim.requests.length
        const { proc, done } = await startRun(bed, ['--tenant', bed.tenant, '--timeout', '30'])
        for (let waited = 0; bed.sim.requests.length === since && waited < 10_000; waited += 10) await Bun.sleep(10)
        proc.kill(signal)
        const result = await done
        expect(result.code).toBe(code)
        expect(errorLines(result).join('\n')).toContain(
          `Stopped by ${signal}: the tenants in flight are rolled back; tenants synced before the stop stay synced.`,
        )
      } finally {
        bed.sim.faults.clear()
      }
      expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
      expect(await lastRun(bed.db.sql, bed.tenant)).toEqual({
        status: 'failed',
        error: `Stopped by ${signal}: the tenant's open transaction was rolled back.`,
      })
    })
  }
})

describe.concurrent('garbage is a failure, not a success', () => {
  test('an answer whose records are all invalid fails the tenant: nothing written, no stamp, status shows it', async () => {
    const bed = await beds.bed()
    const before = await snapshot(bed.db.sql, bed.tenant)
    const garbage = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [String(9_000 + index), { reservation_id: 9_000 + index }]))
    bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'status', status: 200, body: { success: true, data: garbage } } })
    try {
      const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'])
      expect(result.code).toBe(1)
      expect(errorLines(result).join('\n')).toContain('of the 50 reservations Gingr sent are invalid (more than 50%): nothing was written')
      expect(JSON.parse(result.stdout).ok).toBe(false)
    } finally {
      bed.sim.faults.clear()
    }
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
    expect((await lastRun(bed.db.sql, bed.tenant))?.status).toBe('failed')
    const status = await gingrSync(bed, ['status'])
    expect(status.stdout).toContain('last run FAILED')
    // The line of this tenant, not another's: every tenant in the database is listed.
    expect(status.stdout).toMatch(new RegExp(`\\(${bed.tenant}\\) .*last run FAILED`))
  })
})

describe.concurrent('every run ends', () => {
  test('--max-runtime 1 against a Gingr that hangs: exit 4 within seconds, nothing written, the metrics say 4', async () => {
    const bed = await beds.bed()
    const metricsFile = dir.write('max-runtime.prom', '')
    const before = await snapshot(bed.db.sql, bed.tenant)
    bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'hang' } })
    const started = performance.now()
    try {
      const result = await gingrSync(bed, ['--tenant', bed.tenant, '--max-runtime', '1', '--timeout', '30', '--metrics-file', metricsFile])
      expect(result.code).toBe(4)
      expect(readFileSync(metricsFile, 'utf8')).toContain('\ngingr_sync_run_exit_code 4\n')
      expect(errorLines(result).join('\n')).toContain("Stopped at the run's time limit (--max-runtime 1 s)")
    } finally {
      bed.sim.faults.clear()
    }
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
    expect(await lastRun(bed.db.sql, bed.tenant)).toEqual({
      status: 'failed',
      error: "Stopped at the run's time limit (--max-runtime 1 s): the tenant's open transaction was rolled back.",
    })
  })

  test('--max-runtime and GINGR_SYNC_MAX_RUNTIME out of range are usage errors (exit 2)', async () => {
    const bed = await beds.bed()
    for (const [args, env, says] of [
      [['--max-runtime', '0'], {}, '--max-runtime must be a whole number of seconds from 1 to 86400, not "0".'],
      [[], { GINGR_SYNC_MAX_RUNTIME: 'soon' }, 'GINGR_SYNC_MAX_RUNTIME must be a whole number of seconds from 1 to 86400, not "soon".'],
      [
        [],
        { GINGR_SYNC_STATEMENT_TIMEOUT: '0' },
        'GINGR_SYNC_STATEMENT_TIMEOUT must be a whole number of seconds from 1 to 86400, not "0".',
      ],
    ] as const) {
      const result = await gingrSync(bed, ['--tenant', bed.tenant, ...args], env)
      expect(result.code).toBe(2)
      expect(errorLines(result)).toEqual([expect.stringContaining(says)])
    }
  })
})

describe.concurrent('settings and names that would leak or forge: through the binary', () => {
  test('a config file with the key unquoted, or numeric: exit 2, the position or the field, no piece of the key', async () => {
    const bed = await beds.bed()
    const unquoted = dir.write('unquoted.json', `{\n  "tenants": { "${bed.tenant}": { "apiKey": ${API_KEY} } }\n}`)
    const first = await gingrSync(bed, ['--tenant', bed.tenant, '--config', unquoted])
    expect(first.code).toBe(2)
    expect(errorLines(first)).toEqual([expect.stringMatching(/is not valid JSON \(line 2, column \d+\)\.$/)])
    const numeric = dir.write('numeric.json', JSON.stringify({ tenants: { [bed.tenant]: { apiKey: 90210330 } } }))
    const second = await gingrSync(bed, ['--tenant', bed.tenant, '--config', numeric])
    expect(second.code).toBe(2)
    expect(errorLines(second)).toEqual([expect.stringContaining(`is not valid at \`apiKey\` of tenant ${bed.tenant}: expected a string.`)])
    expect(second.stderr).not.toContain('90210330')
  })
})

describe.concurrent('a config file naming a tenant the database does not have', () => {
  test('the sync warns, and doctor fails that check: a typo would sync the tenant with the shared account', async () => {
    const bed = await beds.bed()
    const typo = `${bed.tenant}x`
    const config = dir.write(
      `typo-${bed.tenant}.json`,
      JSON.stringify({ tenants: { [typo]: { subdomain: 'otheraccount', apiKey: 'other-key-123' } } }),
    )
    const sync = await gingrSync(bed, ['--tenant', bed.tenant, '--config', config])
    expect(sync.code).toBe(0)
    expect(sync.stderr).toContain(
      `WARN  ⚠️  The config file names tenant "${typo}", which the database does not have: its settings apply to no one.`,
    )
    const doctor = await gingrSync(bed, ['doctor', '--config', config])
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toContain(`✗ Config file tenants: the config file names "${typo}", which no tenant of the database is`)
  })
})

describe.concurrent('a stop while a statement waits on a lock', () => {
  test('SIGTERM: exit 143, and the backend goes too within seconds, its locks with it', async () => {
    const bed = await beds.bed()
    bed.sim.account.addReservation()
    const held = await holdTenantRow(bed.db.sql, bed.tenant)
    try {
      const { proc, done } = await startRun(bed, ['--tenant', bed.tenant])
      // The run holds the tenant's lock inside its transaction, then waits on the row for its stamp.
      const pid = await waitForLock(bed.db.sql, bed.tenant)
      for (let waited = 0; waited < 10_000; waited += 20) {
        const [row] = await bed.db.sql<{ wait: string | null }[]>`SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = ${pid}`
        if (row?.wait === 'Lock') break
        await Bun.sleep(20)
      }
      proc.kill('SIGTERM')
      expect((await done).code).toBe(143)
      // Without the client check, the backend would wait on (the tenant's lock held) until the timeout.
      let alive = true
      for (let waited = 0; alive && waited < 5_000; waited += 50) {
        const [row] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}`
        alive = (row?.n ?? 0) > 0
        if (alive) await Bun.sleep(50)
      }
      expect(alive).toBe(false)
      await waitForUnlock(bed.db.sql, bed.tenant)
    } finally {
      await held.release()
    }
  })
})

describe.concurrent('a key Gingr quotes in part, or in another case', () => {
  test('no 8-character piece of it, in any case, reaches the log, --json or the run history', async () => {
    const bed = await beds.bed()
    const said = `key ${API_KEY.slice(0, -1)} is wrong; did you mean ${API_KEY.toUpperCase()}?`
    bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'json-error', message: said } })
    const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'])
    expect(result.code).toBe(1)
    expect(errorLines(result).join('\n')).toContain('Gingr answered with an error: "key [redacted] is wrong; did you mean [redacted]?"')
    const history = (await lastRun(bed.db.sql, bed.tenant))?.error ?? ''
    for (const text of [result.stdout, result.stderr, history]) {
      const lower = text.toLowerCase()
      for (let at = 0; at + 8 <= API_KEY.length; at++) expect(lower).not.toContain(API_KEY.slice(at, at + 8).toLowerCase())
    }
  })
})

describe.concurrent('the run history', () => {
  test('says the same statement count as --json, for a run that syncs and for one that fails', async () => {
    const bed = await beds.bed()
    const counts = async (extra: Record<string, string>) => {
      const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'], extra)
      const [json] = JSON.parse(result.stdout).tenants as { statements: number }[]
      const [row] = await bed.db.sql<{ statements: number }[]>`
        SELECT statements FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY started_at DESC, id DESC LIMIT 1`
      return [json?.statements, row?.statements]
    }
    bed.sim.account.addReservation()
    const [synced, recorded] = await counts({})
    expect(synced).toBeGreaterThan(2)
    expect(recorded).toBe(synced!)
    // A run that fails inside its transaction: its stamp waits on a row lock until the timeout.
    bed.sim.account.addReservation()
    const held = await holdTenantRow(bed.db.sql, bed.tenant)
    let failed: Array<number | undefined>
    try {
      failed = await counts({ GINGR_SYNC_STATEMENT_TIMEOUT: '1' })
    } finally {
      await held.release()
    }
    expect((await lastRun(bed.db.sql, bed.tenant))?.status).toBe('failed')
    expect(failed[0]).toBeGreaterThan(2)
    expect(failed[1]).toBe(failed[0]!)
  })
})

describe.concurrent('the env file and stdout', () => {
  test('export KEY="value"   # comment: the value without its quotes or comment', async () => {
    const bed = await beds.bed()
    const envFile = dir.write('gingr.env', `export GINGR_API_KEY="${API_KEY}"   # the front desk's key\n`)
    const result = await gingrSync(bed, ['--tenant', bed.tenant, '--env-file', envFile], { GINGR_API_KEY: undefined })
    expect(result.code).toBe(0)
  })

  test('--json to a full disk: exit 1 and one sentence, no stack trace', async () => {
    const bed = await beds.bed()
    const proc = Bun.spawn([await binary(), '--tenant', bed.tenant, '--json'], {
      env: { PATH: process.env.PATH ?? '', ...bed.env },
      stdin: 'ignore',
      stdout: Bun.file('/dev/full'),
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    bed.outputs.push(stderr)
    expect(code).toBe(1)
    expect(stderr.split('\n').filter((line) => line.includes(' ERROR '))).toEqual([
      expect.stringContaining('The result could not be written to standard output (ENOSPC).'),
    ])
    expect(stderr).not.toContain('    at ')
  })
})
