/**
 * When PostgreSQL refuses a window's writes (a value it cannot store, a cancel), the write ends: it
 * rejects with PostgreSQL's own error, the transaction is rolled back and the connection is free.
 * The rows bypass validation on purpose: this is the database layer's own guarantee. A real
 * PostgreSQL, and for the cancels a proxy that decides where in the COPY's stream the refusal
 * lands (test/_copy-proxy.ts).
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

describe('PostgreSQL refuses a value of the staging COPY: the COPY settles with its error', () => {
  // 2,000 stays: the COPY's data is a few hundred KB, all of it in the socket's buffers before
  // PostgreSQL parses the rows, so a refusal arrives after the last chunk went out.
  const cases: Array<[string, Poison, string, string]> = [
    [
      "an end in year 10000 UTC (Gingr's open-ended 9999-12-31T23:59:59-07:00), the last of 2,000 stays",
      poisonReservation(1999, { endDate: new Date(Date.UTC(10000, 0, 1, 6, 59, 59)) }),
      '22009',
      'time zone displacement out of range: "+010000-01-01T06:59:59.000Z"',
    ],
    [
      'a start in year 0000 (0000-06-01T10:00:00Z), the first of 2,000 stays',
      poisonReservation(0, { startDate: new Date('0000-06-01T10:00:00Z') }),
      '22008',
      'date/time field value out of range: "0000-06-01T10:00:00.000Z"',
    ],
    [
      'a check-in in year 0000',
      poisonReservation(7, { checkInDate: new Date('0000-06-01T10:00:00Z') }),
      '22008',
      'date/time field value out of range: "0000-06-01T10:00:00.000Z"',
    ],
    [
      'a cancellation in year 10000',
      poisonReservation(1500, { cancelDate: new Date(Date.UTC(10000, 0, 1)) }),
      '22009',
      'time zone displacement out of range: "+010000-01-01T00:00:00.000Z"',
    ],
    [
      "a service's duration beyond PostgreSQL's integer",
      (rows) => {
        rows.services[0] = { ...rows.services[0]!, duration: 2 ** 31 }
      },
      '22003',
      'value "2147483648" is out of range for type integer',
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
