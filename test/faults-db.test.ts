/**
 * The fault matrix, PostgreSQL's side (RELIABILITY.md): the compiled binary against a real
 * PostgreSQL that refuses, kills, times out, locks or rejects. Every failing row proves that the
 * run wrote nothing: the tenant's rows, versions included, are as they were before it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect, type Sql } from '../src/db/connect.ts'
import { syncTenant } from '../src/sync/run.ts'
import type { RunResult } from './_binary.ts'
import {
  type Bed,
  type Beds,
  defaultWindow,
  differences,
  errorLines,
  gingrSync,
  holdTenantRow,
  lastRun,
  snapshot,
  startBeds,
  waitForLock,
  waitForUnlock,
} from './_faults.ts'

let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-db')
})
afterAll(async () => {
  await beds?.stop()
})

/** A failed run: its sentence on the first ERROR line and in the run history, and not one row written. */
async function expectFailedRun(bed: Bed, result: RunResult, before: string[], says: RegExp): Promise<void> {
  expect(result.code).toBe(1)
  expect(errorLines(result)[0]).toMatch(says)
  expect(errorLines(result)[1]).toMatch(/Nothing was written for this tenant/)
  expect(result.stderr).not.toContain('    at ')
  expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
  expect(await lastRun(bed.db.sql, bed.tenant)).toMatchObject({ status: 'failed', error: expect.stringMatching(says) })
}

/** Each test starts with something to write: Gingr gained a reservation since the last sync. */
async function pendingChange(bed: Bed): Promise<string[]> {
  bed.sim.account.addReservation()
  expect(await differences(bed)).not.toEqual([])
  return snapshot(bed.db.sql, bed.tenant)
}

/** The tenant's runs in the history. */
async function runsOf(sql: Sql, tenantId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE tenant_id = ${tenantId}`
  return row!.n
}

// Each case on a bed of its own: its tenant's rows, lock and run history are its alone, so the cases
// run side by side. The CHECK constraint's case alters a table every tenant shares: it runs alone.
describe.concurrent('PostgreSQL faults', () => {
  test('unreachable (a closed port): exit 1, one sentence naming the server, Gingr never asked', async () => {
    const bed = await beds.bed()
    const url = new URL(bed.env.DATABASE_URL!)
    url.port = '9'
    const since = bed.sim.requests.length
    const result = await gingrSync(bed, ['--tenant', bed.tenant], { DATABASE_URL: url.toString() })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/ ERROR PostgreSQL at 127\.0\.0\.1:9\S* refused the connection: is the server running/),
    ])
    expect(bed.sim.requests.length).toBe(since)
  })

  test('the backend terminated while the run waits inside its transaction: exit 1, nothing written', async () => {
    const bed = await beds.bed()
    const before = await pendingChange(bed)
    const held = await holdTenantRow(bed.db.sql, bed.tenant)
    try {
      const running = gingrSync(bed, ['--tenant', bed.tenant])
      const pid = await waitForLock(bed.db.sql, bed.tenant)
      await bed.db.sql`SELECT pg_terminate_backend(${pid})`
      await held.release()
      const result = await running
      await expectFailedRun(bed, result, before, /connection to PostgreSQL .* was terminated/)
    } finally {
      await held.release()
    }
  })

  test('the backend terminated mid-transaction, six times, in-process on a one-connection pool: each killed run fails cleanly and is recorded, the next one syncs, the process lives on', async () => {
    // postgres.js's begin() wrote its ROLLBACK to the dead socket from a timer (an uncaught
    // TypeError, which bun test reports here), and the dead connection answers its next statement
    // with the stale FATAL error: with one connection, the failure's record (real runs) or the
    // next run's BEGIN (after a dry run, which records nothing).
    const bed = await beds.bed()
    const sql = connect(bed.db.url, { max: 1 })
    const sync = (dryRun: boolean) =>
      syncTenant({
        sql,
        tenant: { id: bed.tenant, businessName: 'Fault Matrix Kennels' },
        gingr: { subdomain: 'fault-matrix', apiKey: bed.sim.apiKey, baseUrl: bed.sim.baseUrl, paceMs: 0 },
        window: defaultWindow(),
        dryRun,
      })
    try {
      for (let i = 0; i < 6; i++) {
        const dryRun = i % 2 === 1
        const before = await pendingChange(bed)
        const runs = await runsOf(bed.db.sql, bed.tenant)
        const held = await holdTenantRow(bed.db.sql, bed.tenant)
        try {
          const running = sync(dryRun)
          const pid = await waitForLock(bed.db.sql, bed.tenant)
          await bed.db.sql`SELECT pg_terminate_backend(${pid})`
          await held.release()
          expect(await running).toMatchObject({ status: 'failed', error: expect.stringMatching(/was terminated/) })
        } finally {
          await held.release()
        }
        expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
        expect(await runsOf(bed.db.sql, bed.tenant)).toBe(runs + (dryRun ? 0 : 1))
        await waitForUnlock(bed.db.sql, bed.tenant)
        expect(await sync(false)).toMatchObject({ status: 'synced' })
        expect(await differences(bed)).toEqual([])
      }
    } finally {
      await sql.end({ timeout: 0 })
    }
  })

  const timeouts: Array<[string, (bed: Bed) => Record<string, string>]> = [
    ['GINGR_SYNC_STATEMENT_TIMEOUT=1', () => ({ GINGR_SYNC_STATEMENT_TIMEOUT: '1' })],
    // PostgreSQL's own units: shorter than GINGR_SYNC_STATEMENT_TIMEOUT's whole seconds allow.
    [
      'DATABASE_URL (?options=-c statement_timeout=300ms)',
      (bed) => ({ DATABASE_URL: withOption(bed.env.DATABASE_URL!, '-c statement_timeout=300ms') }),
    ],
  ]
  for (const [name, env] of timeouts) {
    test(`a statement timeout set in ${name} cancels the stamp blocked by a row lock: exit 1, nothing written`, async () => {
      const bed = await beds.bed()
      const before = await pendingChange(bed)
      const held = await holdTenantRow(bed.db.sql, bed.tenant)
      try {
        const result = await gingrSync(bed, ['--tenant', bed.tenant], env(bed))
        await held.release()
        await expectFailedRun(bed, result, before, /statement timeout/)
      } finally {
        await held.release()
      }
    })
  }

  test("the tenant's lock held by another run: exit 0, 'locked', nothing written", async () => {
    const bed = await beds.bed()
    const before = await pendingChange(bed)
    const other = ownSession(bed)
    try {
      await other`SELECT pg_advisory_lock(hashtext('gingr-sync'), hashtext(${bed.tenant}))`
      const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'])
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout).tenants[0].status).toBe('locked')
      expect(result.stderr).toContain('another gingr-sync run is syncing this tenant right now')
      expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
    } finally {
      await other`SELECT pg_advisory_unlock(hashtext('gingr-sync'), hashtext(${bed.tenant}))`
      await other.end()
    }
  })

  test('a customer Tailtown inserts while the run writes violates UNIQUE ("tenantId", email): exit 1, nothing written', async () => {
    const bed = await beds.bed()
    const owner = bed.sim.account.addOwner({ email: 'race@fault-matrix.example' })
    bed.sim.account.addReservation({ animalId: bed.sim.account.addAnimal(owner.id).id })
    const before = await snapshot(bed.db.sql, bed.tenant)
    // Tailtown's own transaction, not yet committed: invisible to the run's checks, in its way at insert.
    const app = ownSession(bed)
    try {
      await app`BEGIN`
      await app`INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", "updatedAt")
                VALUES ('fault-race-customer', ${bed.tenant}, 'race@fault-matrix.example', 'Walk', 'In', now())`
      const [backend] = await app<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
      const running = gingrSync(bed, ['--tenant', bed.tenant])
      await waitForLockWait(bed.db.sql, backend!.pid)
      await app`COMMIT`
      const result = await running
      const afterRace = before.concat((await snapshot(bed.db.sql, bed.tenant)).filter((v) => v.includes('fault-race-customer')))
      await expectFailedRun(bed, result, afterRace.sort(), /duplicate key value violates unique constraint/)
    } finally {
      await app.end()
    }
    // The next run finds Tailtown's customer and links it instead.
    expect((await gingrSync(bed, ['--tenant', bed.tenant])).code).toBe(0)
    expect(await differences(bed)).toEqual([])
    const [linked] = await bed.db.sql<{ externalId: string }[]>`SELECT "externalId" FROM customers WHERE id = 'fault-race-customer'`
    expect(linked?.externalId).toBe(owner.id)
  })
})

describe('PostgreSQL faults that change the schema every tenant shares', () => {
  test('a CHECK constraint that rejects one reservation: exit 1, a sentence, not even the valid rows written', async () => {
    const bed = await beds.bed()
    const target = bed.sim.account.addReservation({ notes: 'REJECT ME' })
    const before = await pendingChange(bed)
    await bed.db.sql`ALTER TABLE reservations ADD CONSTRAINT fault_matrix_no_reject CHECK (notes IS DISTINCT FROM 'REJECT ME')`
    try {
      const result = await gingrSync(bed, ['--tenant', bed.tenant])
      await expectFailedRun(bed, result, before, /fault_matrix_no_reject/)
    } finally {
      await bed.db.sql`ALTER TABLE reservations DROP CONSTRAINT fault_matrix_no_reject`
    }
    // The operator removes the cause; the next run writes everything.
    expect((await gingrSync(bed, ['--tenant', bed.tenant])).code).toBe(0)
    expect(await differences(bed)).toEqual([])
    expect(target.reservation_id).toBeDefined()
  })
})

/**
 * A session of the test's own, on a pool of one connection: `sql.reserve()` on the shared pool can
 * hang when it has to open a connection (test/_db.ts), as cases side by side all do.
 */
function ownSession(bed: Bed): Sql {
  return connect(bed.db.url, { max: 1 })
}

/** `options=...` added to a URL, as libpq and postgres.js read it. */
function withOption(url: string, option: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', option)
  return parsed.toString()
}

/**
 * Waits until a gingr-sync session waits for a lock that the session `holder` holds (here: the
 * uncommitted customer's): another case's run waiting on a lock of its own does not count.
 */
async function waitForLockWait(sql: Sql, holder: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const [row] = await sql<{ waiting: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'gingr-sync' AND wait_event_type = 'Lock'
        AND ${holder} = ANY (pg_blocking_pids(pid))) AS waiting`
    if (row?.waiting) return
    await Bun.sleep(25)
  }
  throw new Error('the run never waited for the uncommitted customer')
}
