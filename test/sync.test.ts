/**
 * One tenant's run against a real PostgreSQL (a database created by `migrate`, whose default time
 * zone is not UTC) and the simulator over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Sql } from '../src/db/connect.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { syncTenant, type TenantResult } from '../src/sync/run.ts'
import { syncWindow } from '../src/sync/window.ts'
import { migratedDatabase, reserveConnection, type TestDatabase } from './_db.ts'
import { insertTenant } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
let sim: Simulator
let db: TestDatabase
let counted = 0

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, reservations: 160, owners: 60, animals: 90, timeZone: ZONE })
  db = await migratedDatabase({ onQuery: () => counted++ })
})
afterAll(async () => {
  await sim?.stop()
  await db?.drop()
})

function run(
  tenantId: string,
  options: { dryRun?: boolean; pastDays?: number; futureDays?: number; simulator?: Simulator } = {},
): Promise<TenantResult> {
  const s = options.simulator ?? sim
  return syncTenant({
    sql: db.sql,
    tenant: { id: tenantId, businessName: `Tenant ${tenantId}` },
    gingr: { subdomain: 'test', apiKey: s.apiKey, baseUrl: s.baseUrl, paceMs: 0, backoffBaseMs: 5, backoffMaxMs: 20, timeoutMs: 5000 },
    window: syncWindow(ZONE, options.pastDays ?? 7, options.futureDays ?? 30),
    dryRun: options.dryRun ?? false,
    statements: () => counted,
  })
}

/** Row versions: a row that was written gets a new xmin, an untouched one keeps it. */
async function versions(sql: Sql, table: 'reservations' | 'customers' | 'pets' | 'services', tenantId: string) {
  const rows = await sql<
    { id: string; xmin: string }[]
  >`SELECT id, xmin::text FROM ${sql(table)} WHERE "tenantId" = ${tenantId} ORDER BY id`
  return rows.map((r) => `${r.id}:${r.xmin}`)
}

async function everyVersion(tenantId: string) {
  return {
    reservations: await versions(db.sql, 'reservations', tenantId),
    customers: await versions(db.sql, 'customers', tenantId),
    pets: await versions(db.sql, 'pets', tenantId),
    services: await versions(db.sql, 'services', tenantId),
  }
}

/** The UTC wall time stored in a timestamp(3) column, read as text so no driver parsing is involved. */
async function storedReservation(tenantId: string, externalId: string) {
  const [row] = await db.sql<{ start: string; end: string; status: string; notes: string | null; cancel: string | null; n: number }[]>`
    SELECT to_char("startDate", 'YYYY-MM-DD"T"HH24:MI:SS') AS start, to_char("endDate", 'YYYY-MM-DD"T"HH24:MI:SS') AS end,
           status::text AS status, notes, to_char("cancelDate", 'YYYY-MM-DD"T"HH24:MI:SS') AS cancel,
           count(*) OVER ()::int AS n
    FROM reservations WHERE "tenantId" = ${tenantId} AND "externalId" = ${externalId}`
  return row
}

const utcWall = (iso: string) => new Date(iso).toISOString().slice(0, 19)

describe('one tenant, from the first sync to an unchanged rerun', () => {
  const tenant = 'tenant-main'
  let first: TenantResult

  beforeAll(async () => {
    await insertTenant(db.sql, { id: tenant, timezone: ZONE })
    first = await run(tenant)
  })

  test('the first sync creates every reservation of the window and the owners, animals and types they need', async () => {
    const window = syncWindow(ZONE, 7, 30)
    const truth = sim.account.matching(window.from, window.to)
    expect(first.status).toBe('synced')
    expect(first.error).toBeUndefined()
    expect(first.fetched).toBe(truth.length)
    expect(first.reservations).toEqual({ created: truth.length, updated: 0, unchanged: 0, skipped: 0, errors: 0 })
    const [counts] = await db.sql<{ reservations: number; customers: number; pets: number; services: number }[]>`
      SELECT (SELECT count(*)::int FROM reservations WHERE "tenantId" = ${tenant}) AS reservations,
             (SELECT count(*)::int FROM customers WHERE "tenantId" = ${tenant}) AS customers,
             (SELECT count(*)::int FROM pets WHERE "tenantId" = ${tenant}) AS pets,
             (SELECT count(*)::int FROM services WHERE "tenantId" = ${tenant}) AS services`
    expect(counts).toEqual({
      reservations: truth.length,
      customers: new Set(truth.map((r) => r.owner.id)).size,
      pets: new Set(truth.map((r) => r.animal.id)).size,
      services: new Set(truth.map((r) => r.reservation_type.id)).size,
    })
    expect(first.customersCreated).toBe(counts!.customers)
    expect(first.petsCreated).toBe(counts!.pets)
    expect(first.servicesCreated).toBe(counts!.services)
  })

  test('instants are stored as UTC wall time although the database session default is not UTC', async () => {
    const [zone] = await db.sql<{ tz: string }[]>`SELECT current_setting('TimeZone') AS tz`
    const window = syncWindow(ZONE, 7, 30)
    for (const r of sim.account.matching(window.from, window.to).slice(0, 25)) {
      const row = await storedReservation(tenant, r.reservation_id)
      expect(row?.start).toBe(utcWall(r.start_date))
      expect(row?.end).toBe(utcWall(r.end_date))
    }
    expect(zone?.tz).toBeDefined()
  })

  test('status follows the dates as Tailtown reads them', async () => {
    const window = syncWindow(ZONE, 7, 30)
    const expected = (r: ReturnType<typeof sim.account.matching>[number]) =>
      r.cancelled_date
        ? 'CANCELLED'
        : r.check_out_date
          ? 'COMPLETED'
          : r.check_in_date
            ? 'CHECKED_IN'
            : r.confirmed_date
              ? 'CONFIRMED'
              : 'PENDING'
    const seen = new Set<string>()
    for (const r of sim.account.matching(window.from, window.to)) {
      const row = await storedReservation(tenant, r.reservation_id)
      expect(row?.status).toBe(expected(r))
      seen.add(expected(r))
    }
    expect(seen.size).toBeGreaterThanOrEqual(4)
  })

  test('the tenant is stamped and the run recorded', async () => {
    const [t] = await db.sql<{ stamped: boolean }[]>`SELECT last_gingr_sync_at IS NOT NULL AS stamped FROM tenants WHERE id = ${tenant}`
    expect(t?.stamped).toBe(true)
    const runs = await db.sql<
      { status: string; created: number }[]
    >`SELECT status, created FROM gingr_sync_runs WHERE tenant_id = ${tenant}`
    expect([...runs]).toEqual([{ status: 'synced', created: first.reservations.created }])
  })

  test('an unchanged rerun writes nothing at all: every row keeps its version', async () => {
    const before = await everyVersion(tenant)
    const again = await run(tenant)
    expect(again.status).toBe('synced')
    expect(again.reservations).toEqual({ created: 0, updated: 0, unchanged: first.fetched, skipped: 0, errors: 0 })
    expect(again.customersCreated + again.petsCreated + again.servicesCreated).toBe(0)
    expect(await everyVersion(tenant)).toEqual(before)
  })

  test('changes in Gingr are applied, and only the changed rows are written', async () => {
    const window = syncWindow(ZONE, 7, 30)
    const [a, b, c] = sim.account.matching(window.from, window.to).filter((r) => !r.cancelled_date && !r.check_in_date)
    sim.account.cancelReservation(a!.reservation_id)
    const start = new Date(Date.parse(b!.start_date) + 3_600_000)
    const end = new Date(Date.parse(b!.end_date) + 3_600_000)
    sim.account.moveReservation(b!.reservation_id, start, end)
    const added = sim.account.addReservation()
    const before = await versions(db.sql, 'reservations', tenant)

    const result = await run(tenant)
    expect(result.reservations.created).toBe(1)
    expect(result.reservations.updated).toBe(2)
    expect(result.reservations.unchanged).toBe(result.fetched - 3)

    expect((await storedReservation(tenant, a!.reservation_id))?.status).toBe('CANCELLED')
    expect((await storedReservation(tenant, b!.reservation_id))?.start).toBe(start.toISOString().slice(0, 19))
    expect((await storedReservation(tenant, added.reservation_id))?.n).toBe(1)
    expect((await storedReservation(tenant, c!.reservation_id))?.status).not.toBe('CANCELLED')
    const after = await versions(db.sql, 'reservations', tenant)
    expect(after.filter((v) => !before.includes(v))).toHaveLength(3)
  })

  test('a dry run reports the same counts and writes nothing: no rows, no stamp, no history', async () => {
    const window = syncWindow(ZONE, 7, 30)
    const target = sim.account.matching(window.from, window.to).find((r) => !r.cancelled_date)!
    sim.account.cancelReservation(target.reservation_id)
    const before = await everyVersion(tenant)
    const [stampBefore] = await db.sql<{ at: string }[]>`SELECT last_gingr_sync_at::text AS at FROM tenants WHERE id = ${tenant}`
    const [runsBefore] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`

    const dry = await run(tenant, { dryRun: true })
    expect(dry.status).toBe('synced')
    expect(dry.dryRun).toBe(true)
    expect(dry.reservations.updated).toBe(1)
    expect(await everyVersion(tenant)).toEqual(before)
    const [stampAfter] = await db.sql<{ at: string }[]>`SELECT last_gingr_sync_at::text AS at FROM tenants WHERE id = ${tenant}`
    const [runsAfter] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`
    expect(stampAfter?.at).toBe(stampBefore!.at)
    expect(runsAfter?.n).toBe(runsBefore!.n)

    const real = await run(tenant)
    expect(real.reservations.updated).toBe(1)
  })

  test('a failure in the second chunk writes nothing, stamps nothing, and is recorded as a failure', async () => {
    sim.account.addReservation()
    const window = syncWindow(ZONE, 7, 30)
    const before = await everyVersion(tenant)
    const [stampBefore] = await db.sql<{ at: string }[]>`SELECT last_gingr_sync_at::text AS at FROM tenants WHERE id = ${tenant}`
    sim.faults.add({
      endpoint: '/reservations',
      when: (req) => req.params.start_date !== window.from,
      fault: { kind: 'status', status: 503 },
    })
    try {
      const result = await run(tenant)
      expect(result.status).toBe('failed')
      expect(result.error).toContain('503')
      expect(result.error).not.toContain(sim.apiKey)
    } finally {
      sim.faults.clear()
    }
    expect(await everyVersion(tenant)).toEqual(before)
    const [stampAfter] = await db.sql<{ at: string }[]>`SELECT last_gingr_sync_at::text AS at FROM tenants WHERE id = ${tenant}`
    expect(stampAfter?.at).toBe(stampBefore!.at)
    const [last] = await db.sql<{ status: string; error: string }[]>`
      SELECT status, error FROM gingr_sync_runs WHERE tenant_id = ${tenant} ORDER BY id DESC LIMIT 1`
    expect(last?.status).toBe('failed')
    expect(last?.error).toContain('503')
    // Once Gingr answers again, the next run completes the work.
    expect((await run(tenant)).reservations.created).toBe(1)
  })

  test('a tenant whose lock another run holds is reported locked and left alone', async () => {
    sim.account.addReservation()
    const before = await everyVersion(tenant)
    const holder = await reserveConnection(db.sql)
    try {
      await holder`SELECT pg_advisory_lock(hashtext('gingr-sync'), hashtext(${tenant}))`
      const result = await run(tenant)
      expect(result.status).toBe('locked')
      expect(await everyVersion(tenant)).toEqual(before)
    } finally {
      await holder`SELECT pg_advisory_unlock(hashtext('gingr-sync'), hashtext(${tenant}))`
      holder.release()
    }
    expect((await run(tenant)).reservations.created).toBe(1)
  })

  test('text is stored verbatim, NUL excepted', async () => {
    const window = syncWindow(ZONE, 7, 30)
    const target = sim.account.matching(window.from, window.to)[3]!
    const hostile = `Robert'); DROP TABLE reservations;-- \u0000 emoji 🐕‍🦺 ltr/rtl שלום <b>bold</b> "quoted"`
    sim.account.changeReservation(target.reservation_id, { notes: { ...target.notes, reservation_notes: hostile } })
    const result = await run(tenant)
    expect(result.status).toBe('synced')
    expect((await storedReservation(tenant, target.reservation_id))?.notes).toBe(hostile.replace('\u0000', ''))
  })
})

describe('a database that already holds awkward rows', () => {
  const tenant = 'tenant-awkward'
  let own: Simulator

  beforeAll(async () => {
    own = await startSimulator({ seed: 5, reservations: 60, owners: 20, animals: 30, timeZone: ZONE })
  })
  afterAll(() => own.stop())

  test('customers, pets, services and duplicate reservations already there are reused, never duplicated', async () => {
    await insertTenant(db.sql, { id: tenant, timezone: ZONE })
    const window = syncWindow(ZONE, 7, 30)
    const truth = own.account.matching(window.from, window.to)
    const withEmail = truth.find((r) => r.owner.email)!
    const legacy = truth.find((r) => r.animal.id !== withEmail.animal.id)!
    const duplicated = truth.find((r) => r.owner.id !== legacy.owner.id && r.owner.id !== withEmail.owner.id)!
    const now = new Date()

    // A customer created by hand with the owner's email (in other letters' case), no externalId.
    await db.sql`INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", "updatedAt")
                 VALUES ('cust-by-email', ${tenant}, ${withEmail.owner.email!.toUpperCase()}, 'Hand', 'Made', ${now})`
    // An older import's pet id form, under a customer of its own that already stands for the owner.
    await db.sql`INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", "externalId", "updatedAt")
                 VALUES ('cust-legacy', ${tenant}, 'legacy@example.test', 'Old', 'Import', ${legacy.owner.id}, ${now})`
    await db.sql`INSERT INTO pets (id, "tenantId", name, type, "externalId", "customerId", "updatedAt")
                 VALUES ('pet-legacy', ${tenant}, 'Old name', 'DOG', ${`${legacy.animal.id}-tailtown`}, 'cust-legacy', ${now})`
    // A service named like a Gingr type, without externalId.
    await db.sql`INSERT INTO services (id, "tenantId", name, duration, price, "serviceCategory", "updatedAt")
                 VALUES ('svc-by-name', ${tenant}, ${duplicated.reservation_type.type}, 60, 10, 'OTHER', ${now})`
    // Two rows for one Gingr reservation, left by an import without a unique index.
    await db.sql`INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", "externalId", "updatedAt")
                 VALUES ('cust-dup', ${tenant}, 'dup@example.test', 'Dup', 'Owner', ${duplicated.owner.id}, ${now})`
    await db.sql`INSERT INTO pets (id, "tenantId", name, type, "externalId", "customerId", "updatedAt")
                 VALUES ('pet-dup', ${tenant}, 'Dup', 'CAT', ${duplicated.animal.id}, 'cust-dup', ${now})`
    for (const id of ['res-dup-1', 'res-dup-2']) {
      await db.sql`INSERT INTO reservations (id, "tenantId", "externalId", "customerId", "petId", "serviceId", "startDate", "endDate", status, "updatedAt")
                   VALUES (${id}, ${tenant}, ${duplicated.reservation_id}, 'cust-dup', 'pet-dup', 'svc-by-name', '2000-01-01', '2000-01-02', 'PENDING', ${now})`
    }

    const result = await run(tenant, { simulator: own })
    expect(result.status).toBe('synced')

    const [linked] = await db.sql<
      { externalId: string; firstName: string }[]
    >`SELECT "externalId", "firstName" FROM customers WHERE id = 'cust-by-email'`
    expect(linked).toEqual({ externalId: withEmail.owner.id, firstName: 'Hand' })
    const owners = await db.sql`SELECT id FROM customers WHERE "tenantId" = ${tenant} AND "externalId" = ${withEmail.owner.id}`
    expect(owners).toHaveLength(1)

    const pets = await db.sql<{ id: string; name: string }[]>`
      SELECT id, name FROM pets WHERE "tenantId" = ${tenant} AND "externalId" IN (${legacy.animal.id}, ${`${legacy.animal.id}-tailtown`})`
    expect([...pets]).toEqual([{ id: 'pet-legacy', name: 'Old name' }])
    const [legacyStay] = await db.sql<
      { petId: string }[]
    >`SELECT "petId" FROM reservations WHERE "tenantId" = ${tenant} AND "externalId" = ${legacy.reservation_id}`
    expect(legacyStay?.petId).toBe('pet-legacy')

    const services = await db.sql`SELECT id FROM services WHERE "tenantId" = ${tenant} AND name = ${duplicated.reservation_type.type}`
    expect(services).toHaveLength(1)

    const dups = await db.sql<{ id: string; start: string }[]>`
      SELECT id, to_char("startDate", 'YYYY-MM-DD"T"HH24:MI:SS') AS start FROM reservations
      WHERE "tenantId" = ${tenant} AND "externalId" = ${duplicated.reservation_id} ORDER BY id`
    expect(dups.map((d) => d.id)).toEqual(['res-dup-1', 'res-dup-2'])
    expect(dups.map((d) => d.start)).toEqual([utcWall(duplicated.start_date), utcWall(duplicated.start_date)])

    const again = await run(tenant, { simulator: own })
    expect(again.reservations.created + again.reservations.updated).toBe(0)
  })

  test('owners without an email or sharing one get placeholder emails, never a constraint violation', async () => {
    const shared = 'shared@example.test'
    const other = 'tenant-emails'
    await insertTenant(db.sql, { id: other, timezone: ZONE })
    const first = own.account.addOwner({ email: shared })
    const second = own.account.addOwner({ email: shared })
    const none = own.account.addOwner({ email: '' })
    for (const owner of [first, second, none]) {
      const animal = own.account.addAnimal(owner.id)
      own.account.addReservation({ animalId: animal.id })
    }
    const result = await run(other, { simulator: own })
    expect(result.status).toBe('synced')
    const rows = await db.sql<{ externalId: string; email: string }[]>`
      SELECT "externalId", email FROM customers WHERE "tenantId" = ${other} AND "externalId" IN (${first.id}, ${second.id}, ${none.id}) ORDER BY "createdAt", "externalId"`
    const byOwner = Object.fromEntries(rows.map((r) => [r.externalId, r.email]))
    expect(byOwner[first.id]).toBe(shared)
    expect(byOwner[second.id]).toMatch(/@no-email\.invalid$/)
    expect(byOwner[none.id]).toMatch(/@no-email\.invalid$/)
  })
})

describe('the number of statements', () => {
  test('is the same for a window of 20 reservations and one of 600, the owner refresh included', async () => {
    const small = await startSimulator({ seed: 21, reservations: 20, owners: 10, animals: 12, timeZone: ZONE })
    const large = await startSimulator({ seed: 22, reservations: 600, owners: 200, animals: 300, timeZone: ZONE })
    try {
      await insertTenant(db.sql, { id: 'tenant-small', timezone: ZONE })
      await insertTenant(db.sql, { id: 'tenant-large', timezone: ZONE })
      const a = await run('tenant-small', { simulator: small })
      const b = await run('tenant-large', { simulator: large })
      expect(b.fetched).toBeGreaterThan(a.fetched * 10)
      // The owner refresh too, whether Gingr lists no changed owner or dozens.
      expect(b.ownerRefresh?.changed).toBeGreaterThan(a.ownerRefresh?.changed ?? 0)
      expect(a.statements).toBe(b.statements)
      expect(a.statements).toBeLessThanOrEqual(22)
    } finally {
      await small.stop()
      await large.stop()
    }
  })
})
