/**
 * The full sync's core (syncFullTenant) against a real PostgreSQL whose default time zone is
 * Denver, and the simulator over real HTTP. Each case has a tenant and a simulator of its own, so
 * the cases run side by side. "Not written" is proven by row versions (xmin); "right" by the
 * truth of test/_full-truth.ts, derived from the wire records independently of the mapping.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { connect, type Sql } from '../src/db/connect.ts'
import { latestRealRuns } from '../src/db/runs.ts'
import { type Simulator, type SimulatorOptions, startSimulator } from '../src/simulator/index.ts'
import { type FullResult, type FullRunOptions, fullExitCode, syncFullTenant } from '../src/sync/full.ts'
import { syncTenant } from '../src/sync/run.ts'
import { syncWindow } from '../src/sync/window.ts'
import { DATABASE_TIME_ZONE, migratedDatabase, reserveConnection, type TestDatabase } from './_db.ts'
import { fullTruth } from './_full-truth.ts'
import { insertCustomer, insertLegacyPet, insertPet, insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
let db: TestDatabase
const sims: Simulator[] = []
const connections: Sql[] = []

beforeAll(async () => {
  db = await migratedDatabase()
})
afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.stop()))
  await Promise.all(connections.map((sql) => sql.end({ timeout: 5 })))
  await db?.drop()
})

interface Bed {
  tenant: string
  sim: Simulator
  sql: Sql
  /** Statements sent on this bed's own connection. */
  statements: () => number
  full(options?: Partial<FullRunOptions>): Promise<FullResult>
}

/** A tenant of its own, a simulator of its own, a counting connection of its own. */
async function bed(options: SimulatorOptions = {}): Promise<Bed> {
  const sim = await startSimulator({ seed: 17, owners: 40, animals: 60, reservations: 40, timeZone: ZONE, ...options })
  sims.push(sim)
  let count = 0
  const sql = connect(db.url, { onQuery: () => count++ })
  connections.push(sql)
  const tenant = await insertTenant(db.sql, { id: `full-${randomUUID().slice(0, 8)}`, timezone: ZONE })
  const statements = () => count
  return {
    tenant,
    sim,
    sql,
    statements,
    full: (extra = {}) =>
      syncFullTenant({
        sql,
        tenant: { id: tenant, businessName: 'Full Kennels' },
        gingr: {
          subdomain: 'full',
          apiKey: sim.apiKey,
          baseUrl: sim.baseUrl,
          timeZone: ZONE,
          paceMs: 0,
          backoffBaseMs: 5,
          backoffMaxMs: 10,
        },
        dryRun: false,
        statements,
        ...extra,
      }),
  }
}

/** Every customer and pet of the tenant, `id → xmin md5(row)`: a written row has a new version. */
async function versions(sql: Sql, tenant: string): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; v: string }[]>`
    SELECT c.id, c.xmin::text || ' ' || md5(c::text) AS v FROM customers c WHERE "tenantId" = ${tenant}
    UNION ALL SELECT p.id, p.xmin::text || ' ' || md5(p::text) FROM pets p WHERE "tenantId" = ${tenant}
    UNION ALL SELECT t.id, t.xmin::text || ' ' || md5(t::text) FROM tenants t WHERE id = ${tenant}`
  return new Map(rows.map((row) => [row.id, row.v]))
}

/** The ids whose row was written (or added, or removed) between two snapshots. */
function written(before: Map<string, string>, after: Map<string, string>): string[] {
  const ids = new Set([...before.keys(), ...after.keys()])
  return [...ids].filter((id) => before.get(id) !== after.get(id)).sort()
}

const idOf = async (sql: Sql, table: 'customers' | 'pets', tenant: string, externalId: string) =>
  (
    await sql<
      { id: string }[]
    >`SELECT id FROM ${sql(table)} WHERE "tenantId" = ${tenant} AND "externalId" = ${externalId} ORDER BY "createdAt", id`
  ).map((row) => row.id)

const ownerIds = (sim: Simulator) => [...sim.account.owners.keys()]
const animalIds = (sim: Simulator) => [...sim.account.animals.keys()]

describe.concurrent('the full sync', () => {
  test('a first sync makes every owner a customer and every animal a pet, column for column', async () => {
    const b = await bed()
    const result = await b.full()
    expect(result.status).toBe('synced')
    expect(result.customers).toEqual({ created: 40, updated: 0, unchanged: 0, linked: 0, skipped: 0 })
    expect(result.pets).toEqual({ created: 60, updated: 0, unchanged: 0, skipped: 0 })
    const { expected, stored } = await fullTruth(b.sql, b.tenant, b.sim, ZONE)
    expect(stored.customers).toEqual(expected.customers)
    expect(stored.pets).toEqual(expected.pets)
    // Notes of a new pet come from Gingr as they are.
    const animal = [...b.sim.account.animals.values()].find((a) => a.feeding_notes && a.medicines && a.temperment)!
    const [pet] = await b.sql<{ foodNotes: string; medicationNotes: string; behaviorNotes: string }[]>`
      SELECT "foodNotes", "medicationNotes", "behaviorNotes" FROM pets WHERE "tenantId" = ${b.tenant} AND "externalId" = ${animal.id}`
    expect(pet).toEqual({ foodNotes: animal.feeding_notes!, medicationNotes: animal.medicines!, behaviorNotes: animal.temperment! })
    expect(fullExitCode([result])).toBe(0)
  })

  test('birthdays are the day Gingr means, at midnight UTC, whatever the session zone of the writer', async () => {
    const b = await bed({ owners: 2, animals: 2 })
    const owner = ownerIds(b.sim)[0]!
    // 01:30 UTC on 1 May is the evening of 30 April in Denver: the pet was born on the 30th.
    const late = b.sim.account.addAnimal(owner, { birthday: String(Date.UTC(2021, 4, 1, 1, 30) / 1000) })
    const noon = b.sim.account.addAnimal(owner, { birthday: String(Date.UTC(2019, 0, 15, 19) / 1000) })
    // A writer whose session is in Denver (the database's default here), not connect()'s UTC.
    const denver = postgres(db.url, { max: 1, fetch_types: false, connection: { TimeZone: DATABASE_TIME_ZONE }, onnotice: () => {} })
    try {
      const result = await syncFullTenant({
        sql: denver as unknown as Sql,
        tenant: { id: b.tenant, businessName: 'Full Kennels' },
        gingr: { subdomain: 'full', apiKey: b.sim.apiKey, baseUrl: b.sim.baseUrl, timeZone: ZONE, paceMs: 0 },
        dryRun: false,
      })
      expect(result.status).toBe('synced')
    } finally {
      await denver.end({ timeout: 5 })
    }
    const rows = await b.sql<{ externalId: string; day: string }[]>`
      SELECT "externalId", to_char(birthdate, 'YYYY-MM-DD HH24:MI:SS') AS day FROM pets
      WHERE "tenantId" = ${b.tenant} AND "externalId" IN (${late.id}, ${noon.id}) ORDER BY "externalId"`
    expect([...rows]).toEqual([
      { externalId: late.id, day: '2021-04-30 00:00:00' },
      { externalId: noon.id, day: '2019-01-15 00:00:00' },
    ])
  })

  test('an unchanged rerun writes nothing: every xmin stays, the counts say unchanged', async () => {
    const b = await bed()
    await b.full()
    const before = await versions(b.sql, b.tenant)
    const result = await b.full()
    expect(result.customers).toEqual({ created: 0, updated: 0, unchanged: 40, linked: 0, skipped: 0 })
    expect(result.pets).toEqual({ created: 0, updated: 0, unchanged: 60, skipped: 0 })
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('changes in Gingr rewrite exactly the rows they touch, and every Gingr-owned column follows', async () => {
    const b = await bed()
    await b.full()
    const [o1, o2, o3] = ownerIds(b.sim)
    const [a1, a2, a3] = animalIds(b.sim)
    b.sim.account.changeOwner(o1!, { cell_phone: '(720) 555-0199', home_phone: '303-555-0142', zip: '80401', city: 'Golden' })
    b.sim.account.changeOwner(o2!, { address_2: 'Unit 7', emergency_contact_name: 'Ana Ruiz', emergency_contact_phone: '970-555-0110' })
    b.sim.account.changeAnimal(a1!, { first_name: 'Biscuit Jr.', weight: '48.2', microchip: '985000000000042', fixed: '1', vip: '1' })
    b.sim.account.changeAnimal(a2!, { species_id: '2', breed_id: '22', gender: 'Female', color: 'Tabby' })
    // Animal n belongs to owner n (people.ts): a3 moves from o3 to o1.
    expect(b.sim.account.animals.get(a3!)?.owner_id).toBe(o3!)
    b.sim.account.rehomeAnimal(a3!, o1!)
    const before = await versions(b.sql, b.tenant)

    const result = await b.full()
    expect(result.customers).toMatchObject({ created: 0, updated: 2, unchanged: 38 })
    expect(result.pets).toMatchObject({ created: 0, updated: 3, unchanged: 57 })
    const ids = [
      ...(await idOf(b.sql, 'customers', b.tenant, o1!)),
      ...(await idOf(b.sql, 'customers', b.tenant, o2!)),
      ...(await idOf(b.sql, 'pets', b.tenant, a1!)),
      ...(await idOf(b.sql, 'pets', b.tenant, a2!)),
      ...(await idOf(b.sql, 'pets', b.tenant, a3!)),
    ].sort()
    expect(written(before, await versions(b.sql, b.tenant))).toEqual(ids)
    const { expected, stored } = await fullTruth(b.sql, b.tenant, b.sim, ZONE)
    expect(stored.customers).toEqual(expected.customers)
    expect(stored.pets).toEqual(expected.pets)
    expect(stored.pets.find((p) => p.externalId === a3)?.owner).toBe(o1!)
  })

  test("Tailtown's own notes survive; only empty ones are filled from Gingr", async () => {
    const b = await bed({ owners: 3, animals: 3 })
    const [owner] = ownerIds(b.sim)
    const [animal] = animalIds(b.sim)
    b.sim.account.changeOwner(owner!, { notes: 'Gingr: prefers texts' })
    b.sim.account.changeAnimal(animal!, {
      notes: 'Gingr note',
      feeding_notes: 'Gingr: 2 cups',
      medicines: 'Gingr: Apoquel',
      allergies: 'Gingr: chicken',
      temperment: 'Gingr: calm',
    })
    await b.full()
    // Staff curate some in Tailtown, and blank others out.
    await b.sql`UPDATE customers SET notes = 'Staff: VIP, call before 9' WHERE "tenantId" = ${b.tenant} AND "externalId" = ${owner!}`
    await b.sql`UPDATE pets SET "foodNotes" = 'Staff: own food only', "medicationNotes" = '  ', allergies = NULL, "behaviorNotes" = 'Staff: muzzle at the vet'
                WHERE "tenantId" = ${b.tenant} AND "externalId" = ${animal!}`
    b.sim.account.changeOwner(owner!, { notes: 'Gingr: changed note' })
    b.sim.account.changeAnimal(animal!, { feeding_notes: 'Gingr: 3 cups', temperment: 'Gingr: nervous', medicines: 'Gingr: Rimadyl' })

    const result = await b.full()
    expect(result.customers.updated).toBe(0)
    expect(result.pets.updated).toBe(1)
    const [customer] = await b.sql<
      { notes: string }[]
    >`SELECT notes FROM customers WHERE "tenantId" = ${b.tenant} AND "externalId" = ${owner!}`
    expect(customer?.notes).toBe('Staff: VIP, call before 9')
    const [pet] = await b.sql`
      SELECT notes, "foodNotes", "medicationNotes", allergies, "behaviorNotes" FROM pets WHERE "tenantId" = ${b.tenant} AND "externalId" = ${animal!}`
    expect(pet).toEqual({
      notes: 'Gingr note',
      foodNotes: 'Staff: own food only',
      medicationNotes: 'Gingr: Rimadyl',
      allergies: 'Gingr: chicken',
      behaviorNotes: 'Staff: muzzle at the vet',
    })
    // Filled once, then Tailtown's own: the next run writes nothing.
    const before = await versions(b.sql, b.tenant)
    await b.full()
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('a legacy <id>-tailtown pet is the animal: updated, never doubled; so are both forms at once', async () => {
    const b = await bed({ owners: 2, animals: 2 })
    const [owner] = ownerIds(b.sim)
    const [legacyAnimal, bothAnimal] = animalIds(b.sim)
    const customer = await insertCustomer(b.sql, { tenantId: b.tenant, externalId: owner!, firstName: 'Old', lastName: 'Import' })
    const legacy = await insertLegacyPet(b.sql, { tenantId: b.tenant, customerId: customer, animalId: legacyAnimal!, name: 'Old Name' })
    const both = [
      await insertPet(b.sql, { tenantId: b.tenant, customerId: customer, externalId: bothAnimal!, name: 'Twin A' }),
      await insertLegacyPet(b.sql, { tenantId: b.tenant, customerId: customer, animalId: bothAnimal!, name: 'Twin B' }),
    ]
    const result = await b.full()
    expect(result.pets).toEqual({ created: 0, updated: 2, unchanged: 0, skipped: 0 })
    const pets = await b.sql<{ id: string; name: string }[]>`SELECT id, name FROM pets WHERE "tenantId" = ${b.tenant} ORDER BY id`
    expect(pets.map((p) => p.id).sort()).toEqual([legacy, ...both].sort())
    const names = new Map(pets.map((p) => [p.id, p.name]))
    expect(names.get(legacy)).toBe(b.sim.account.animals.get(legacyAnimal!)!.first_name)
    for (const id of both) expect(names.get(id)).toBe(b.sim.account.animals.get(bothAnimal!)!.first_name)
    const before = await versions(b.sql, b.tenant)
    await b.full()
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('duplicated customers of one owner: all kept consistent, the email on the oldest, new pets under it', async () => {
    const b = await bed({ owners: 2, animals: 2 })
    const [owner] = ownerIds(b.sim)
    b.sim.account.changeOwner(owner!, { email: 'twins@example.com' })
    const older = await insertCustomer(b.sql, { tenantId: b.tenant, externalId: owner!, email: 'old-a@example.test' })
    await b.sql`UPDATE customers SET "createdAt" = now() - interval '2 days' WHERE id = ${older}`
    const newer = await insertCustomer(b.sql, { tenantId: b.tenant, externalId: owner!, email: 'old-b@example.test' })
    const added = b.sim.account.addAnimal(owner!, { first_name: 'Newcomer' })

    const result = await b.full()
    expect(result.customers).toMatchObject({ created: 1, updated: 1, unchanged: 0 })
    const rows = await b.sql<{ id: string; email: string; firstName: string }[]>`
      SELECT id, email, "firstName" FROM customers WHERE "tenantId" = ${b.tenant} AND "externalId" = ${owner!} ORDER BY "createdAt"`
    expect([...rows]).toEqual([
      { id: older, email: 'twins@example.com', firstName: b.sim.account.owners.get(owner!)!.first_name },
      { id: newer, email: 'old-b@example.test', firstName: b.sim.account.owners.get(owner!)!.first_name },
    ])
    const [pet] = await b.sql<
      { customerId: string }[]
    >`SELECT "customerId" FROM pets WHERE "tenantId" = ${b.tenant} AND "externalId" = ${added.id}`
    expect(pet?.customerId).toBe(older)
    const before = await versions(b.sql, b.tenant)
    await b.full()
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('a customer entered by hand with the same email (another case) is linked, not doubled', async () => {
    const b = await bed({ owners: 3, animals: 3 })
    const [owner] = ownerIds(b.sim)
    b.sim.account.changeOwner(owner!, { email: 'Maya.Hart@Example.com' })
    const manual = await insertCustomer(b.sql, { tenantId: b.tenant, email: 'maya.hart@example.com', firstName: 'Maya', lastName: 'H.' })
    const result = await b.full()
    expect(result.customers).toMatchObject({ created: 2, linked: 1, updated: 1, unchanged: 0 })
    const rows = await b.sql<{ id: string; email: string; lastName: string }[]>`
      SELECT id, email, "lastName" FROM customers WHERE "tenantId" = ${b.tenant} AND "externalId" = ${owner!}`
    expect([...rows]).toEqual([{ id: manual, email: 'Maya.Hart@Example.com', lastName: b.sim.account.owners.get(owner!)!.last_name }])
  })

  test('an email another customer holds is not taken: the old one stays, the owner is reported, the rest is written', async () => {
    const b = await bed({ owners: 3, animals: 3 })
    const [o1, o2] = ownerIds(b.sim)
    b.sim.account.changeOwner(o1!, { email: 'first@example.com' })
    b.sim.account.changeOwner(o2!, { email: 'second@example.com' })
    await b.full()
    const desk = await insertCustomer(b.sql, { tenantId: b.tenant, email: 'front.desk@example.com' })
    b.sim.account.changeOwner(o1!, { email: 'FRONT.DESK@example.com', city: 'Silverthorne' })
    // o2 moves to an address nobody holds: taken.
    b.sim.account.changeOwner(o2!, { email: 'second.new@example.com' })

    const result = await b.full()
    expect(result.emailConflicts).toEqual([o1!])
    expect(result.customers).toMatchObject({ updated: 2 })
    const rows = await b.sql<{ externalId: string | null; email: string; city: string | null }[]>`
      SELECT "externalId", email, city FROM customers WHERE "tenantId" = ${b.tenant} AND ("externalId" IN (${o1!}, ${o2!}) OR id = ${desk}) ORDER BY email`
    expect([...rows]).toEqual([
      { externalId: o1!, email: 'first@example.com', city: 'Silverthorne' },
      { externalId: null, email: 'front.desk@example.com', city: null },
      { externalId: o2!, email: 'second.new@example.com', city: b.sim.account.owners.get(o2!)!.city },
    ])
    expect(fullExitCode([result])).toBe(0)
  })

  test('owners sharing an email in Gingr: one holds it, the others keep placeholders, and no run reports them', async () => {
    const b = await bed({ owners: 3, animals: 3 })
    const [o1, o2] = ownerIds(b.sim)
    b.sim.account.changeOwner(o1!, { email: 'family@example.com' })
    b.sim.account.changeOwner(o2!, { email: 'family@example.com' })
    expect((await b.full()).emailConflicts).toEqual([])
    const before = await versions(b.sql, b.tenant)
    expect((await b.full()).emailConflicts).toEqual([])
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
    const emails = await b.sql<{ email: string }[]>`
      SELECT email FROM customers WHERE "tenantId" = ${b.tenant} AND "externalId" IN (${o1!}, ${o2!}) ORDER BY "externalId"`
    expect(emails.map((e) => e.email)).toEqual(['family@example.com', `gingr-owner-${o2!}@no-email.invalid`])
  })

  test('customers and pets the hourly run made are completed by the full sync, not doubled', async () => {
    const b = await bed({ owners: 20, animals: 30, reservations: 60 })
    const hourly = await syncTenant({
      sql: b.sql,
      tenant: { id: b.tenant, businessName: 'Full Kennels' },
      gingr: { subdomain: 'full', apiKey: b.sim.apiKey, baseUrl: b.sim.baseUrl, timeZone: ZONE, paceMs: 0 },
      window: syncWindow(ZONE, 7, 30),
      dryRun: false,
    })
    expect(hourly.status).toBe('synced')
    expect(hourly.customersCreated).toBeGreaterThan(0)
    const result = await b.full()
    expect(result.customers.created + result.customers.updated + result.customers.unchanged).toBe(20)
    expect(result.customers.created).toBe(20 - hourly.customersCreated)
    expect(result.pets.created).toBe(30 - hourly.petsCreated)
    const [dupes] = await b.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT "externalId" FROM customers WHERE "tenantId" = ${b.tenant} GROUP BY 1 HAVING count(*) > 1) d`
    expect(dupes?.n).toBe(0)
    const { expected, stored } = await fullTruth(b.sql, b.tenant, b.sim, ZONE)
    expect(stored).toEqual(expected)
  })

  test("species labels decide the type; a breed the look-up does not know leaves Tailtown's", async () => {
    const b = await bed({ owners: 1, animals: 1 })
    const [owner] = ownerIds(b.sim)
    const bird = b.sim.account.addAnimal(owner!, { species_id: '4', breed_id: '41' })
    const rabbit = b.sim.account.addAnimal(owner!, { species_id: '5', breed_id: null })
    const gecko = b.sim.account.addAnimal(owner!, { species_id: '6', breed_id: '61' })
    const stray = b.sim.account.addAnimal(owner!, { species_id: '99', breed_id: '16' })
    await b.full()
    await b.sql`UPDATE pets SET breed = 'Staff: Rex mix' WHERE "tenantId" = ${b.tenant} AND "externalId" = ${stray.id}`
    b.sim.account.changeAnimal(stray.id, { breed_id: '777' })
    await b.full()
    const rows = await b.sql<{ externalId: string; type: string; breed: string | null }[]>`
      SELECT "externalId", type::text, breed FROM pets WHERE "tenantId" = ${b.tenant} AND "externalId" IN (${bird.id}, ${rabbit.id}, ${gecko.id}, ${stray.id})
      ORDER BY "externalId"`
    expect([...rows]).toEqual([
      { externalId: bird.id, type: 'BIRD', breed: 'Cockatiel' },
      { externalId: rabbit.id, type: 'RABBIT', breed: null },
      { externalId: gecko.id, type: 'REPTILE', breed: 'Leopard Gecko' },
      { externalId: stray.id, type: 'OTHER', breed: 'Staff: Rex mix' },
    ])
  })

  test('what Gingr no longer lists is reported, and deactivated only when asked', async () => {
    const b = await bed()
    await b.full()
    const [gone] = ownerIds(b.sim)
    const animalsGone = b.sim.account.deleteOwner(gone!)
    const [deleted] = animalIds(b.sim)
    b.sim.account.deleteAnimal(deleted!)
    const missingPets = [...animalsGone, deleted!].sort()

    const before = await versions(b.sql, b.tenant)
    const reported = await b.full()
    expect(reported.missing).toEqual({ customers: [gone!], pets: missingPets, deactivated: { customers: 0, pets: 0 }, withheld: false })
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])

    const done = await b.full({ deactivateMissing: true })
    expect(done.missing).toEqual({
      customers: [gone!],
      pets: missingPets,
      deactivated: { customers: 1, pets: missingPets.length },
      withheld: false,
    })
    const inactive = await b.sql<{ externalId: string }[]>`
      SELECT "externalId" FROM customers WHERE "tenantId" = ${b.tenant} AND NOT "isActive"
      UNION ALL SELECT "externalId" FROM pets WHERE "tenantId" = ${b.tenant} AND NOT "isActive" ORDER BY 1`
    expect(inactive.map((r) => r.externalId)).toEqual([gone!, ...missingPets].sort())
    // Deactivated, they are no longer "missing": the next run has nothing to say or write.
    const after = await versions(b.sql, b.tenant)
    const again = await b.full({ deactivateMissing: true })
    expect(again.missing.customers).toEqual([])
    expect(again.missing.pets).toEqual([])
    expect(written(after, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('the guard: an empty or much shorter list deactivates nothing, and says so; --max-deactivate lets it through', async () => {
    const b = await bed()
    await b.full()
    // Half the account gone at once: far more than max(10, 10%).
    for (const id of ownerIds(b.sim).slice(0, 20)) b.sim.account.deleteOwner(id)
    const before = await versions(b.sql, b.tenant)
    const withheld = await b.full({ deactivateMissing: true })
    expect(withheld.missing).toMatchObject({ deactivated: { customers: 0, pets: 0 }, withheld: true })
    expect(withheld.missing.customers).toHaveLength(20)
    expect(withheld.notes).toEqual([
      "20 owners are no longer in Gingr's answer, more than the 10 one run may deactivate: none deactivated. If Gingr really lost them, raise --max-deactivate.",
    ])
    expect(fullExitCode([withheld])).toBe(3)
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])

    const raised = await b.full({ deactivateMissing: true, maxDeactivate: 100 })
    expect(raised.missing.deactivated.customers).toBe(20)

    // Gingr answers no owner and no animal at all: nothing, whatever the limit.
    b.sim.account.owners.clear()
    b.sim.account.animals.clear()
    const empty = await b.full({ deactivateMissing: true, maxDeactivate: 1_000_000 })
    expect(empty.status).toBe('synced')
    expect(empty.missing).toMatchObject({ deactivated: { customers: 0, pets: 0 }, withheld: true })
    expect(empty.notes[0]).toMatch(/^Gingr listed no owners at all while Tailtown holds 20: nothing is deactivated on an empty answer\.$/)
  })

  test('invalid records are skipped and reported, and still count as listed; past half, the tenant fails', async () => {
    const b = await bed({ owners: 10, animals: 10 })
    await b.full()
    const [badOwner] = ownerIds(b.sim)
    const [badAnimal] = animalIds(b.sim)
    const owner = b.sim.account.owners.get(badOwner!)!
    b.sim.account.owners.set(badOwner!, { ...owner, last_name: { first: 'x' } as unknown as string, city: 'Nowhere' })
    b.sim.account.animals.set(badAnimal!, { ...b.sim.account.animals.get(badAnimal!)!, birthday: 'yesterday' })
    const before = await versions(b.sql, b.tenant)
    const result = await b.full({ deactivateMissing: true })
    expect(result.status).toBe('synced')
    expect(result.invalid).toEqual([
      { kind: 'owner', id: badOwner!, issue: expect.stringMatching(/^last_name: /) },
      { kind: 'animal', id: badAnimal!, issue: expect.stringMatching(/^birthday: Invalid birthday/) },
    ])
    expect(result.customers.skipped).toBe(1)
    expect(result.missing.customers).toEqual([])
    expect(result.missing.pets).toEqual([])
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
    expect(fullExitCode([result])).toBe(3)

    for (const id of ownerIds(b.sim).slice(1, 6)) b.sim.account.owners.set(id, { ...b.sim.account.owners.get(id)!, id: `x${id}` })
    const failed = await b.full()
    expect(failed.status).toBe('failed')
    expect(failed.error).toBe(
      '6 of the 10 owners Gingr sent are invalid (more than 50%): nothing was written, as most of them would be missing.',
    )
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
  })

  test('an owner listed twice counts once, as the last one listed, and is reported: no count goes negative', async () => {
    const b = await bed()
    const [first, second, third] = ownerIds(b.sim)
    // Notes of NULs alone are none once cleaned: a customer created with them was also counted
    // updated (Tailtown's empty notes "filled"), and unchanged went to -1.
    b.sim.account.changeOwner(third!, { notes: '\u0000' })
    expect((await b.full()).customers).toEqual({ created: 40, updated: 0, unchanged: 0, linked: 0, skipped: 0 })
    // "0455" is "455" in Gingr's ids: one owner listed twice, the second time with a new name.
    b.sim.account.addOwner({ ...b.sim.account.owners.get(first!)!, id: `0${first}`, first_name: 'Twin' })
    b.sim.account.changeOwner(second!, { first_name: 'Changed' })
    const result = await b.full()
    expect(result.customers).toEqual({ created: 0, updated: 2, unchanged: 38, linked: 0, skipped: 0 })
    expect(result.listedTwice).toEqual({ owners: [first!], animals: [] })
    const [customer] = await b.sql<{ firstName: string }[]>`
      SELECT "firstName" FROM customers WHERE "tenantId" = ${b.tenant} AND "externalId" = ${first!}`
    expect(customer?.firstName).toBe('Twin')
  })

  test('an animal whose owner has no customer is reported, not made, and made once the owner is', async () => {
    const b = await bed({ owners: 3, animals: 3 })
    const [owner] = ownerIds(b.sim)
    const pet = b.sim.account.addAnimal(owner!, { first_name: 'Waiting' })
    const kept = b.sim.account.owners.get(owner!)!
    b.sim.account.owners.set(owner!, { ...kept, first_name: null as unknown as string })
    const first = await b.full()
    expect(first.petsWithoutOwner).toEqual(expect.arrayContaining([pet.id]))
    expect(await idOf(b.sql, 'pets', b.tenant, pet.id)).toEqual([])
    expect(fullExitCode([first])).toBe(3)
    b.sim.account.owners.set(owner!, kept)
    const second = await b.full()
    expect(second.petsWithoutOwner).toEqual([])
    expect(await idOf(b.sql, 'pets', b.tenant, pet.id)).toHaveLength(1)
  })

  test('a dry run reports exactly what the real run then does, and writes nothing, not even its history', async () => {
    const b = await bed()
    await b.full()
    b.sim.account.changeOwner(ownerIds(b.sim)[3]!, { city: 'Erie' })
    b.sim.account.changeAnimal(animalIds(b.sim)[4]!, { weight: '12.5' })
    b.sim.account.addOwner({ first_name: 'Lena', last_name: 'Park' })
    b.sim.account.deleteAnimal(animalIds(b.sim)[7]!)
    const before = await versions(b.sql, b.tenant)
    const runsBefore = (await b.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE tenant_id = ${b.tenant}`)[0]!.n
    const dry = await b.full({ dryRun: true, deactivateMissing: true })
    expect(written(before, await versions(b.sql, b.tenant))).toEqual([])
    const runsAfter = (await b.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs WHERE tenant_id = ${b.tenant}`)[0]!.n
    expect(runsAfter).toBe(runsBefore)
    const real = await b.full({ deactivateMissing: true })
    const { durationMs: _d1, dryRun: _r1, ...dryCounts } = dry
    const { durationMs: _d2, dryRun: _r2, ...realCounts } = real
    expect(dryCounts).toEqual(realCounts)
    expect(real.customers).toMatchObject({ created: 1, updated: 1 })
    expect(real.missing.deactivated.pets).toBe(1)
  })

  test('the run history says it was a full run, with its counts; the hourly history is left to the hourly run', async () => {
    const b = await bed({ owners: 5, animals: 7 })
    const result = await b.full()
    const [run] = await b.sql`
      SELECT kind, status, fetched, created, updated, unchanged, skipped, customers_created, pets_created, statements, window_from, error
      FROM gingr_sync_runs WHERE tenant_id = ${b.tenant}`
    expect(run).toEqual({
      kind: 'full',
      status: 'synced',
      fetched: 12,
      created: 12,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      customers_created: 5,
      pets_created: 7,
      statements: result.statements,
      window_from: null,
      error: null,
    })
    expect((await latestRealRuns(b.sql)).some((r) => r.tenantId === b.tenant)).toBe(false)
    expect((await latestRealRuns(b.sql, 'full')).find((r) => r.tenantId === b.tenant)?.fetched).toBe(12)
  })

  test('a fixed number of statements, whatever the size, and the count the result reports is the count sent', async () => {
    const small = await bed({ owners: 3, animals: 4 })
    const large = await bed({ owners: 900, animals: 1400, reservations: 0 })
    const counts = []
    for (const b of [small, large]) {
      const at = b.statements()
      const result = await b.full({ deactivateMissing: true })
      expect(b.statements() - at).toBe(result.statements)
      counts.push(result.statements)
    }
    expect(counts[0]).toBe(counts[1])
    expect(counts[0]).toBeLessThanOrEqual(15)
  })

  test("the hourly run's lock: a full run waits for it, then writes; past its wait, it writes nothing and says so", async () => {
    const b = await bed({ owners: 4, animals: 4 })
    const holder = await reserveConnection(db.sql)
    try {
      await holder`BEGIN`
      await holder`SELECT pg_advisory_xact_lock(hashtext('gingr-sync'), hashtext(${b.tenant}))`
      const gaveUp = await b.full({ lockWaitMs: 300 })
      expect(gaveUp.status).toBe('locked')
      expect(gaveUp.error).toBe('another gingr-sync run held the tenant for more than 0 s: nothing was written.')
      expect(fullExitCode([gaveUp])).toBe(1)
      expect(await idOf(b.sql, 'customers', b.tenant, ownerIds(b.sim)[0]!)).toEqual([])
      const waiting = b.full({ lockWaitMs: 20_000 })
      // Its fetch (a few records, in this process) and its first try at the lock come well within this.
      await Bun.sleep(300)
      await holder`ROLLBACK`
      const done = await waiting
      expect(done.status).toBe('synced')
      expect(done.customers.created).toBe(4)
    } finally {
      holder.release()
    }
  })
})

describe('a record the database refuses', () => {
  test("fails the tenant (rolled back) with PostgreSQL's error naming the Gingr owner to fix", async () => {
    // A constraint of a production Tailtown that gingr-sync's validation cannot know: a database of its own.
    const own = await migratedDatabase()
    const sim = await startSimulator({ seed: 4, owners: 5, animals: 5, reservations: 0, timeZone: ZONE })
    try {
      await own.sql`ALTER TABLE customers ADD CONSTRAINT zip_is_five_digits CHECK ("zipCode" ~ '^[0-9]{5}$')`
      const tenant = await insertTenant(own.sql, { timezone: ZONE })
      const [owner] = [...sim.account.owners.keys()]
      sim.account.changeOwner(owner!, { zip: 'CO 80202' })
      const result = await syncFullTenant({
        sql: own.sql,
        tenant: { id: tenant, businessName: 'Full Kennels' },
        gingr: { subdomain: 'full', apiKey: sim.apiKey, baseUrl: sim.baseUrl, timeZone: ZONE, paceMs: 0 },
        dryRun: false,
      })
      expect(result.status).toBe('failed')
      expect(result.error).toBe(
        `PostgreSQL at ${new URL(own.url).host}/${own.name} failed with 23514: new row for relation "customers" violates check constraint "zip_is_five_digits" (Gingr owner ${owner})`,
      )
      const [{ n }] = [...(await own.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customers`)] as [{ n: number }]
      expect(n).toBe(0)
    } finally {
      await sim.stop()
      await own.drop()
    }
  })
})
