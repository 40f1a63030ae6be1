/**
 * When PostgreSQL refuses a window's writes (a value it cannot store, a row an index cannot hold, a
 * constraint, a cancel), the write ends: it rejects with PostgreSQL's own error, naming the Gingr
 * record when one record is the cause, the transaction is rolled back and the connection is free.
 * The rows here bypass validation on purpose (src/gingr/ now refuses every one of these values): this
 * is the database layer's own guarantee, the defence behind validation. A real PostgreSQL, and for
 * the cancels a proxy that decides where in the COPY's stream the refusal lands (test/_copy-proxy.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect, type Sql } from '../src/db/connect.ts'
import { inTransaction } from '../src/db/transaction.ts'
import { type ReservationRow, type WindowRows, writeWindow } from '../src/db/writes.ts'
import { type CopyProxy, type Held, type Hold, startCopyProxy } from './_copy-proxy.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { insertTenant } from './fixtures/tailtown.ts'

const TENANT = 'db-refused'
/** A write that has not settled by then never will: the bug this file guards against hung forever. */
const SETTLES_WITHIN_MS = 20_000

let db: TestDatabase
/** One connection, so every test also proves that the one before left it usable. */
let sql: Sql
let proxy: CopyProxy
let proxied: Sql

setDefaultTimeout(60_000)

beforeAll(async () => {
  db = await migratedDatabase()
  await insertTenant(db.sql, { id: TENANT })
  sql = connect(db.url, { max: 1 })
  const target = new URL(db.url)
  proxy = await startCopyProxy({ host: target.hostname, port: Number(target.port || 5432) })
  proxied = connect(proxy.url(db.url), { max: 1 })
})
afterAll(async () => {
  await Promise.all([sql?.end({ timeout: 1 }), proxied?.end({ timeout: 1 })])
  await proxy?.close()
  await db?.drop()
})

/** Digits no compression shrinks (an index row is compressed before it is measured). */
function randomDigits(count: number, seed = 7): string {
  let state = seed
  let text = '9'
  while (text.length < count) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    text += String(state % 10)
  }
  return text
}

function randomLetters(count: number): string {
  return randomDigits(count, 11).replace(/\d/g, (d) => 'qwertyuiop'[Number(d)] ?? 'x')
}

const DAY = 86_400_000

/** A window of `count` stays of one owner's one pet, ids from 950000: nothing of it is in the database. */
function window(count: number, notes = 'Feeds twice a day; allergic to chicken.'): WindowRows {
  const start = Date.UTC(2030, 5, 1, 15)
  const reservations: ReservationRow[] = Array.from({ length: count }, (_, i) => ({
    externalId: String(950_000 + i),
    customerExternalId: '9001',
    petExternalId: '9101',
    serviceExternalId: '900',
    serviceName: 'Boarding | Refused Suite',
    startDate: new Date(start + i * DAY),
    endDate: new Date(start + i * DAY + 2 * DAY),
    status: 'CONFIRMED',
    notes,
    checkInDate: null,
    checkOutDate: null,
    cancelDate: null,
  }))
  return {
    services: [{ externalId: '900', name: 'Boarding | Refused Suite', category: 'BOARDING', duration: 1440 }],
    customers: [
      {
        externalId: '9001',
        firstName: 'Refused',
        lastName: 'Owner',
        email: 'refused@example.test',
        phone: null,
        address: null,
        city: null,
        state: null,
      },
    ],
    pets: [{ externalId: '9101', ownerExternalId: '9001', name: 'Biscuit', type: 'DOG', breed: null, notes: null }],
    reservations,
  }
}

type Outcome = { settled: true; error: unknown; ms: number } | { settled: false }

/** Runs the window's writes in a transaction, as a tenant's run does, and says how it ended. */
async function write(on: Sql, rows: WindowRows): Promise<Outcome> {
  const started = performance.now()
  let timer: Timer | undefined
  const hung = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), SETTLES_WITHIN_MS)
  })
  const ended = inTransaction(on, (tx) => writeWindow(tx, TENANT, rows)).then(
    () => ({ settled: true as const, error: undefined, ms: performance.now() - started }),
    (error: unknown) => ({ settled: true as const, error, ms: performance.now() - started }),
  )
  try {
    return await Promise.race([ended, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** The refusal, PostgreSQL's own error: its SQLSTATE and its message. */
function refusal(outcome: Outcome): { code: unknown; message: string } {
  if (!outcome.settled) throw new Error(`the write did not settle within ${SETTLES_WITHIN_MS / 1000} s`)
  expect(outcome.error).toBeInstanceOf(Error)
  const error = outcome.error as Error & { code?: unknown }
  return { code: error.code, message: error.message }
}

/** After a refusal: nothing of the window written, no session left in a transaction, the connection usable. */
async function expectRolledBack(on: Sql): Promise<void> {
  const [rows] = await db.sql<{ n: number }[]>`
    SELECT ((SELECT count(*) FROM reservations WHERE "tenantId" = ${TENANT})
         + (SELECT count(*) FROM customers WHERE "tenantId" = ${TENANT})
         + (SELECT count(*) FROM pets WHERE "tenantId" = ${TENANT})
         + (SELECT count(*) FROM services WHERE "tenantId" = ${TENANT}))::int AS n`
  expect(rows!.n).toBe(0)
  const open = await db.sql<{ state: string }[]>`
    SELECT state FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`
  expect([...open]).toEqual([])
  expect([...(await on`SELECT 1 AS one`)]).toEqual([{ one: 1 }])
}

type Poison = (rows: WindowRows) => void

const poisonReservation =
  (at: number, patch: Partial<ReservationRow>): Poison =>
  (rows) => {
    rows.reservations[at] = { ...rows.reservations[at]!, ...patch }
  }

describe('PostgreSQL refuses a value of the staging COPY: the COPY settles with its error, naming the record', () => {
  // 2,000 stays: the COPY's data is a few hundred KB, all of it in the socket's buffers before
  // PostgreSQL parses the rows, so a refusal arrives after the last chunk went out.
  const cases: Array<[string, Poison, string, string]> = [
    [
      "an end in year 10000 UTC (Gingr's open-ended 9999-12-31T23:59:59-07:00), the last of 2,000 stays",
      poisonReservation(1999, { endDate: new Date(Date.UTC(10000, 0, 1, 6, 59, 59)) }),
      '22009',
      'time zone displacement out of range: "+010000-01-01T06:59:59.000Z" (Gingr reservation 951999)',
    ],
    [
      'a start in year 0000 (0000-06-01T10:00:00Z), the first of 2,000 stays',
      poisonReservation(0, { startDate: new Date('0000-06-01T10:00:00Z') }),
      '22008',
      'date/time field value out of range: "0000-06-01T10:00:00.000Z" (Gingr reservation 950000)',
    ],
    [
      'a check-in in year 0000',
      poisonReservation(7, { checkInDate: new Date('0000-06-01T10:00:00Z') }),
      '22008',
      '(Gingr reservation 950007)',
    ],
    [
      'a cancellation in year 10000',
      poisonReservation(1500, { cancelDate: new Date(Date.UTC(10000, 0, 1)) }),
      '22009',
      '(Gingr reservation 951500)',
    ],
    [
      "a service's duration beyond PostgreSQL's integer",
      (rows) => {
        rows.services[0] = { ...rows.services[0]!, duration: 2 ** 31 }
      },
      '22003',
      'value "2147483648" is out of range for type integer (Gingr reservation type 900, in reservation 950000)',
    ],
  ]
  test.each(cases)('%s', async (_name, poison, code, says) => {
    const rows = window(2000)
    poison(rows)
    const refused = refusal(await write(sql, rows))
    expect(refused.code).toBe(code)
    expect(refused.message).toEndWith(says)
    await expectRolledBack(sql)
  })
})

describe('PostgreSQL refuses a record in a write after staging: the error names the record', () => {
  const longId = randomDigits(10_000)
  const longAnimal = randomDigits(8_000, 3)
  const longType = randomDigits(8_000, 5)
  const cases: Array<[string, Poison, string, string]> = [
    [
      'a 10,000-digit reservation id (index row too large)',
      poisonReservation(5, { externalId: longId }),
      '54000',
      `for index "reservations_tenantId_externalId_idx" (Gingr reservation ${longId.slice(0, 20)}… (10,000 characters))`,
    ],
    [
      'an 8,000-digit animal id',
      (rows) => {
        rows.pets[0] = { ...rows.pets[0]!, externalId: longAnimal }
        rows.reservations = rows.reservations.map((r) => ({ ...r, petExternalId: longAnimal }))
      },
      '54000',
      `for index "pets_tenantId_externalId_key" (Gingr animal ${longAnimal.slice(0, 20)}… (8,000 characters), in reservation 950000)`,
    ],
    [
      'an 8,000-digit reservation type id',
      (rows) => {
        rows.services[0] = { ...rows.services[0]!, externalId: longType }
        rows.reservations = rows.reservations.map((r) => ({ ...r, serviceExternalId: longType }))
      },
      '54000',
      `for index "services_tenantId_externalId_idx" (Gingr reservation type ${longType.slice(0, 20)}… (8,000 characters), in reservation 950000)`,
    ],
    [
      'a 6,000-character email',
      (rows) => {
        rows.customers[0] = { ...rows.customers[0]!, email: `${randomLetters(5_990)}@x.example` }
      },
      '54000',
      'for index "customers_tenantId_email_key" (Gingr owner 9001, in reservation 950000)',
    ],
    [
      "an owner whose own email is another owner's placeholder, both in the window (src/sync/map.ts keeps such emails out)",
      (rows) => {
        rows.customers = [
          { ...rows.customers[0]!, email: null },
          { ...rows.customers[0]!, externalId: '9002', email: 'gingr-owner-9001@no-email.invalid' },
        ]
        rows.reservations[3] = { ...rows.reservations[3]!, customerExternalId: '9002' }
      },
      '23505',
      'duplicate key value violates unique constraint "customers_tenantId_email_key" (Gingr owner 9002, in reservation 950003)',
    ],
  ]
  test.each(cases)('%s', async (_name, poison, code, says) => {
    const rows = window(20)
    poison(rows)
    const refused = refusal(await write(sql, rows))
    expect(refused.code).toBe(code)
    expect(refused.message).toEndWith(says)
    // The sentence stays a sentence: a record refused for its very id is not quoted whole.
    expect(refused.message.length).toBeLessThan(300)
    await expectRolledBack(sql)
  })

  test("a CHECK constraint of Tailtown's that rejects one reservation", async () => {
    const rows = window(20)
    poisonReservation(3, { notes: 'REFUSE ME' })(rows)
    await db.sql`ALTER TABLE reservations ADD CONSTRAINT refused_notes CHECK (notes IS DISTINCT FROM 'REFUSE ME')`
    try {
      const refused = refusal(await write(sql, rows))
      expect(refused.code).toBe('23514')
      expect(refused.message).toEndWith('violates check constraint "refused_notes" (Gingr reservation 950003)')
    } finally {
      await db.sql`ALTER TABLE reservations DROP CONSTRAINT refused_notes`
    }
    await expectRolledBack(sql)
    // The same window, once the constraint is gone: every row written.
    const written = await write(sql, rows)
    expect(written).toMatchObject({ settled: true, error: undefined })
    await db.sql`DELETE FROM reservations WHERE "tenantId" = ${TENANT}`
    await db.sql`DELETE FROM pets WHERE "tenantId" = ${TENANT}`
    await db.sql`DELETE FROM customers WHERE "tenantId" = ${TENANT}`
    await db.sql`DELETE FROM services WHERE "tenantId" = ${TENANT}`
  })
})

/** The session running a COPY into the staging tables. */
async function copyingBackend(): Promise<number> {
  const [row] = await db.sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY gingr_window_%' AND state = 'active'`
  if (!row) throw new Error('no session is running the COPY')
  return row.pid
}

describe('the backend cancelled mid-COPY: the COPY settles with the cancel', () => {
  const cases: Array<[string, Hold, number, (sent: string[]) => void]> = [
    [
      'after the last chunk went out (the client had sent CopyDone)',
      { until: 'copy-done' },
      5_000,
      (sent) => {
        expect(sent).toContain('c')
        expect(sent).not.toContain('f')
      },
    ],
    [
      'while the rows still stream (the client was still writing, and failed its COPY)',
      // 30 MB of rows, far beyond what the kernel's socket buffers hold once the proxy stops reading.
      { until: 'bytes', bytes: 1_000_000 },
      100_000,
      (sent) => {
        expect(sent).toContain('f')
        expect(sent).not.toContain('c')
      },
    ],
  ]
  test.each(cases)('%s', async (_name, hold, count, howItEnded) => {
    const rows = { ...window(count, 'x'.repeat(250)), services: [], customers: [], pets: [] }
    const holding = proxy.hold(hold)
    const running = write(proxied, rows)
    const held: Held = await holding
    await db.sql`SELECT pg_cancel_backend(${await copyingBackend()})`
    held.release()
    const refused = refusal(await running)
    expect(refused).toEqual({ code: '57014', message: 'canceling statement due to user request' })
    howItEnded(held.sent)
    await expectRolledBack(proxied)
  })
})
