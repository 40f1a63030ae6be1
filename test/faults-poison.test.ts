/**
 * The fault matrix, poison records (RELIABILITY.md): reservations that are well-formed JSON of the
 * right types, yet hold a value PostgreSQL or Tailtown cannot take (an instant beyond the year 9999
 * or in year 0, an id or an email longer than an index row holds, an email equal to another owner's
 * placeholder). Each used to fail the whole tenant, every hour; the instants hung the run for good.
 * Now each is reported as an invalid record, every other record is written, and the run ends with
 * exit 3. Then the COPY itself, cancelled or timed out after its last chunk, through the binary.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { SimAccount, WireReservation } from '../src/simulator/index.ts'
import { type CopyProxy, startCopyProxy } from './_copy-proxy.ts'
import {
  type Bed,
  type Beds,
  defaultWindow,
  differences,
  errorLines,
  gingrSync,
  lastRun,
  snapshot,
  startBeds,
  waitForLock,
  waitForUnlock,
} from './_faults.ts'
import { differencesFromGingr } from './_truth.ts'
import { insertCustomer } from './fixtures/tailtown.ts'

let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-poison')
})
afterAll(async () => {
  await beds?.stop()
})

/** Digits no compression shrinks: an index row is compressed before it is measured against 2,704 bytes. */
function randomDigits(count: number, seed: number): string {
  let state = seed
  let text = '9'
  while (text.length < count) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    text += String(state % 10)
  }
  return text
}

/** What a case planted: the reservation to leave out, and how the log must report it. */
interface Planted {
  id: string
  /** The id the report shows: `(no readable id)` when the id itself is the poison. */
  reported: string
  issue: RegExp
}

/** A new owner's new animal, for a stay none of whose parts may reach the database. */
function strangersAnimal(
  account: SimAccount,
  owner: Parameters<SimAccount['addOwner']>[0],
  animal?: Parameters<SimAccount['addAnimal']>[1],
): string {
  return account.addAnimal(account.addOwner(owner).id, animal).id
}

function strangersStay(account: SimAccount, owner: Parameters<SimAccount['addOwner']>[0], animal?: Parameters<SimAccount['addAnimal']>[1]) {
  return account.addReservation({ animalId: strangersAnimal(account, owner, animal) })
}

function changed(account: SimAccount, patch: Partial<WireReservation>, issue: RegExp): Planted {
  const stay = strangersStay(account, {})
  account.changeReservation(stay.reservation_id, patch)
  return { id: stay.reservation_id, reported: stay.reservation_id, issue }
}

const cases: Array<[string, (account: SimAccount) => Planted]> = [
  [
    'an open-ended end, 9999-12-31T23:59:59-07:00 (year 10000 in UTC; the run used to hang for good)',
    (a) =>
      changed(
        a,
        { end_date: '9999-12-31T23:59:59-07:00' },
        /^end_date: Invalid timestamp: "9999-12-31T23:59:59-07:00" is outside 1900-01-01 to 2199-12-31 \(UTC\)/,
      ),
  ],
  [
    'a start in year 0000 (0000-06-01T10:00:00Z; the run used to hang for good)',
    (a) => changed(a, { start_date: '0000-06-01T10:00:00Z' }, /^start_date: Invalid timestamp: "0000-06-01T10:00:00Z" is outside/),
  ],
  [
    'a check-in in year 0000',
    (a) => changed(a, { check_in_date: '0000-06-01T10:00:00Z' }, /^check_in_date: Invalid timestamp: .* is outside/),
  ],
  [
    'a cancellation in 2200',
    (a) => changed(a, { cancelled_date: '2200-01-01T00:00:00Z' }, /^cancelled_date: Invalid timestamp: .* is outside/),
  ],
  [
    'a 10,000-digit reservation id',
    (a) => {
      const id = randomDigits(10_000, 1)
      const stay = a.addReservation({ id, animalId: strangersAnimal(a, {}) })
      return {
        id: stay.reservation_id,
        reported: '(no readable id)',
        issue: /^reservation_id: Invalid id: expected a whole number of at most 20 digits, received "\d{40}…" \(10,000 characters\)$/,
      }
    },
  ],
  [
    'a 6,000-character email',
    (a) => {
      const stay = strangersStay(a, { email: `${'q'.repeat(5_988)}@example.com` })
      return {
        id: stay.reservation_id,
        reported: stay.reservation_id,
        issue: /^owner\.email: Invalid email: 6,000 characters, more than the 254/,
      }
    },
  ],
  [
    'an 8,000-digit animal id',
    (a) => {
      const stay = strangersStay(a, {}, { id: randomDigits(8_000, 2) })
      return { id: stay.reservation_id, reported: stay.reservation_id, issue: /^animal\.id: Invalid id: .* \(8,000 characters\)$/ }
    },
  ],
  [
    'an 8,000-digit reservation type id',
    (a) =>
      changed(
        a,
        { reservation_type: { id: randomDigits(8_000, 3), type: 'Boarding | Poison Suite' } },
        /^reservation_type\.id: Invalid id: .* \(8,000 characters\)$/,
      ),
  ],
  [
    'an 8,000-digit owner id',
    (a) => {
      const stay = strangersStay(a, { id: randomDigits(8_000, 4) })
      return { id: stay.reservation_id, reported: stay.reservation_id, issue: /^owner\.id: Invalid id: .* \(8,000 characters\)$/ }
    },
  ],
]

/** Gingr's truth for the window, but for one record: the poison, which must not be there. */
function differencesBut(bed: Bed, id: string): Promise<string[]> {
  const window = defaultWindow()
  const truth = bed.sim.account.matching(window.from, window.to).filter((r) => r.reservation_id !== id)
  return differencesFromGingr(bed.db.sql, bed.tenant, truth)
}

// Each case on a bed of its own (its Gingr account, its tenant's rows): all side by side.
describe.concurrent('a poison record among good ones: reported as invalid, every other record written, exit 3', () => {
  test.each(cases)('%s', async (_name, plant) => {
    const bed = await beds.bed()
    const good = bed.sim.account.addReservation()
    const poison = plant(bed.sim.account)
    try {
      await expectPoisonSkipped(bed, good, poison)
    } finally {
      bed.sim.account.deleteReservation(poison.id)
    }
  })
})

async function expectPoisonSkipped(bed: Bed, good: WireReservation, poison: Planted): Promise<void> {
  const before = await snapshot(bed.db.sql, bed.tenant)

  const result = await gingrSync(bed, ['--tenant', bed.tenant], {}, 30_000)
  expect(result.code).toBe(3)
  const reports = result.stderr.split('\n').filter((line) => line.includes('Skipped invalid reservation'))
  expect(reports).toHaveLength(1)
  const [, reported, issue] = /Skipped invalid reservation (\(no readable id\)|\d+): (.*)$/.exec(reports[0]!) ?? []
  expect(reported).toBe(poison.reported)
  expect(issue).toMatch(poison.issue)
  // One line the operator can read, not the poison quoted whole.
  expect(reports[0]!.length).toBeLessThan(300)
  expect(result.stderr).toMatch(/Reservations: 1 created, 0 updated, \d+ unchanged, 1 skipped, 0 errors/)

  // Every row that was there is untouched (same version); the one new row is the good stay; the tenant is stamped.
  const after = await snapshot(bed.db.sql, bed.tenant)
  const tenantRow = `tenants ${bed.tenant} `
  expect(before.filter((row) => !row.startsWith(tenantRow) && !after.includes(row))).toEqual([])
  expect(after.filter((row) => !row.startsWith(tenantRow) && !before.includes(row))).toEqual([expect.stringMatching(/^reservations /)])
  const [stored] = await bed.db.sql<{ good: number; poison: number }[]>`
      SELECT count(*) FILTER (WHERE "externalId" = ${good.reservation_id})::int AS good,
             count(*) FILTER (WHERE "externalId" = ${poison.id})::int AS poison
      FROM reservations WHERE "tenantId" = ${bed.tenant}`
  expect(stored).toEqual({ good: 1, poison: 0 })
  expect(await differencesBut(bed, poison.id)).toEqual([])
  expect(await lastRun(bed.db.sql, bed.tenant)).toMatchObject({ status: 'synced', error: null })
}

describe.concurrent("placeholder emails cannot collide with an owner's own", () => {
  test("an owner whose email is another owner's placeholder, and an owner whose placeholder a Tailtown customer holds: all synced, exit 0", async () => {
    const bed = await beds.bed()
    const account = bed.sim.account
    const without = account.addOwner({ email: null })
    const impostor = account.addOwner({ email: `gingr-owner-${without.id}@no-email.invalid` })
    const orphan = account.addOwner({ email: null })
    // A customer that lost its "externalId" in Tailtown keeps the placeholder it was given.
    await insertCustomer(bed.db.sql, { tenantId: bed.tenant, email: `gingr-owner-${orphan.id}@no-email.invalid` })
    for (const owner of [without, impostor, orphan]) account.addReservation({ animalId: account.addAnimal(owner.id).id })
    const before = await snapshot(bed.db.sql, bed.tenant)

    const result = await gingrSync(bed, ['--tenant', bed.tenant], {}, 30_000)
    expect(errorLines(result)).toEqual([])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/Reservations: 3 created, 0 updated/)
    expect(await differences(bed)).toEqual([])
    const emails = await bed.db.sql<{ externalId: string; email: string }[]>`
      SELECT "externalId", email FROM customers
      WHERE "tenantId" = ${bed.tenant} AND "externalId" IN (${without.id}, ${impostor.id}, ${orphan.id})`
    expect(Object.fromEntries(emails.map((c) => [c.externalId, c.email]))).toEqual({
      [without.id]: `gingr-owner-${without.id}@no-email.invalid`,
      [impostor.id]: `gingr-owner-${impostor.id}@no-email.invalid`,
      [orphan.id]: expect.stringMatching(new RegExp(`^gingr-owner-${orphan.id}-[0-9a-f-]{36}@no-email\\.invalid$`)),
    })
    const after = await snapshot(bed.db.sql, bed.tenant)
    expect(before.filter((row) => !row.startsWith(`tenants ${bed.tenant} `) && !after.includes(row))).toEqual([])
  })
})

/**
 * The backend running the binary's COPY into its staging tables for the bed's tenant: the one that
 * holds the tenant's lock (taken before the writes), not another case's.
 */
async function copyingBackend(bed: Bed): Promise<number> {
  const pid = await waitForLock(bed.db.sql, bed.tenant)
  const [row] = await bed.db.sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE pid = ${pid} AND query LIKE 'COPY gingr_window_%' AND state = 'active'`
  if (!row) throw new Error('no session is running the COPY')
  return row.pid
}

/** A COPY proxy of the case's own: each holds the next COPY that goes through it. */
async function copyProxy(bed: Bed): Promise<CopyProxy> {
  const target = new URL(bed.db.url)
  return startCopyProxy({ host: target.hostname, port: Number(target.port || 5432) })
}

describe.concurrent("the binary's COPY refused after its last chunk: the run ends, exit 1, nothing written", () => {
  const cases: Array<[string, { query?: string }, (bed: Bed) => Promise<void>, RegExp]> = [
    [
      'pg_cancel_backend',
      {},
      async (bed) => {
        await bed.db.sql`SELECT pg_cancel_backend(${await copyingBackend(bed)})`
      },
      /A statement was cancelled by PostgreSQL at .* \(canceling statement due to user request\)/,
    ],
    [
      'pg_terminate_backend',
      {},
      async (bed) => {
        await bed.db.sql`SELECT pg_terminate_backend(${await copyingBackend(bed)})`
      },
      /The connection to PostgreSQL at .* was terminated/,
    ],
    [
      // PostgreSQL's own units, in the URL: shorter than GINGR_SYNC_STATEMENT_TIMEOUT's whole seconds
      // (faults-db.test.ts proves that setting on a statement blocked by a lock).
      'a statement timeout of 200 ms in DATABASE_URL',
      { query: 'statement_timeout=200' },
      // Held past the timeout: PostgreSQL acts on it once the rows arrive.
      () => Bun.sleep(400),
      /A statement ran longer than the statement timeout and was cancelled by PostgreSQL at /,
    ],
  ]
  test.each(cases)('%s', async (_name, { query }, refuse, says) => {
    const bed = await beds.bed()
    const proxy = await copyProxy(bed)
    try {
      await expectCopyRefused(bed, proxy, query, () => refuse(bed), says)
    } finally {
      await proxy.close()
    }
  })
})

async function expectCopyRefused(
  bed: Bed,
  proxy: CopyProxy,
  /** Session settings for DATABASE_URL's query string. */
  query: string | undefined,
  refuse: () => Promise<void>,
  says: RegExp,
): Promise<void> {
  bed.sim.account.addReservation()
  const before = await snapshot(bed.db.sql, bed.tenant)
  const holding = proxy.hold({ until: 'copy-done' })
  const url = new URL(proxy.url(bed.env.DATABASE_URL!))
  for (const [name, value] of new URLSearchParams(query)) url.searchParams.set(name, value)
  const running = gingrSync(bed, ['--tenant', bed.tenant], { DATABASE_URL: url.toString() }, 30_000)
  const held = await holding
  await refuse()
  held.release()
  const result = await running

  expect(held.sent).toContain('c')
  expect(result.code).toBe(1)
  expect(errorLines(result)[0]).toMatch(says)
  expect(errorLines(result)[1]).toMatch(/Nothing was written for this tenant/)
  expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
  expect(await lastRun(bed.db.sql, bed.tenant)).toMatchObject({ status: 'failed', error: expect.stringMatching(says) })
  await waitForUnlock(bed.db.sql, bed.tenant)
  // The next run, on a PostgreSQL that takes the COPY, writes it all.
  expect((await gingrSync(bed, ['--tenant', bed.tenant], {}, 30_000)).code).toBe(0)
  expect(await differences(bed)).toEqual([])
}
