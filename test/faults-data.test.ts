/**
 * The fault matrix, hostile data (RELIABILITY.md): text that looks like SQL, NUL, emoji, right-to-
 * left text, a 1 MB note and empty names, planted in Gingr through the simulator's account and
 * synced by the binary. Everything is stored verbatim (NUL dropped: PostgreSQL cannot store it),
 * nothing crashes, and a rerun finds nothing to change.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Bed, differences, gingrSync, snapshot, startBed, stopBed } from './_faults.ts'

const TENANT = 'fault-data'
let bed: Bed

setDefaultTimeout(60_000)

const SQL_NAME = `O'Brien'); DROP TABLE customers;--`
const SQL_NOTE = `'; DELETE FROM reservations WHERE '1'='1'; -- $$ \\x00 %s %n {{7*7}} \${7*7}`
const MIXED_NOTE = `NUL here:\u0000. Emoji 🐕‍🦺🐈‍⬛👩🏽‍⚕️, Hebrew שלום עולם, Arabic مرحبا بالعالم, an RLO \u202Eevil\u202C, and <b>HTML</b> &amp;`
/** About 1 MB of characters, 2.5 MB of UTF-8: multi-byte text, newlines and quotes throughout. */
const HUGE_NOTE = `${'Ωmega "quoted" \\ back\nslash 🐾 '.repeat(40_000)}end`
const LONE_SURROGATE_NOTE = `cut emoji: \ud83d here`

interface Planted {
  ownerId: string
  emptyPetId: string
  nulPetId: string
  sqlStay: string
  mixedStay: string
  hugeStay: string
  emptyTypeStay: string
}
let planted: Planted

beforeAll(async () => {
  bed = await startBed(TENANT)
  const account = bed.sim.account
  const owner = account.addOwner({ first_name: '', last_name: SQL_NAME, email: 'hostile@fault-matrix.example', city: 'תל אביב', state: '' })
  const emptyPet = account.addAnimal(owner.id, { first_name: '' })
  const nulPet = account.addAnimal(owner.id, { first_name: 'Rex\u0000 🐕‍🦺' })
  const sqlStay = account.addReservation({ animalId: emptyPet.id, notes: SQL_NOTE })
  const mixedStay = account.addReservation({ animalId: nulPet.id, notes: MIXED_NOTE })
  const hugeStay = account.addReservation({ animalId: nulPet.id, notes: HUGE_NOTE })
  const emptyTypeStay = account.addReservation({ animalId: emptyPet.id })
  account.changeReservation(emptyTypeStay.reservation_id, { reservation_type: { id: '77', type: '' } })
  planted = {
    ownerId: owner.id,
    emptyPetId: emptyPet.id,
    nulPetId: nulPet.id,
    sqlStay: sqlStay.reservation_id,
    mixedStay: mixedStay.reservation_id,
    hugeStay: hugeStay.reservation_id,
    emptyTypeStay: emptyTypeStay.reservation_id,
  }
})
afterAll(async () => {
  await stopBed(bed)
})

async function notesOf(externalId: string): Promise<{ notes: string | null; md5: string | null }> {
  const [row] = await bed.db.sql<{ notes: string | null; md5: string | null }[]>`
    SELECT notes, md5(notes) AS md5 FROM reservations WHERE "tenantId" = ${TENANT} AND "externalId" = ${externalId}`
  return row!
}

const md5 = (text: string) => new Bun.CryptoHasher('md5').update(text).digest('hex')

describe('hostile data: synced, stored verbatim (NUL dropped), no crash', () => {
  test('the sync writes it all and exits 0', async () => {
    const result = await gingrSync(bed, ['--tenant', TENANT])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/Reservations: 4 created, 0 updated/)
    expect(await differences(bed)).toEqual([])
  })

  test('names: empty, SQL-looking and right-to-left text kept as they are', async () => {
    const [customer] = await bed.db.sql<{ firstName: string; lastName: string; city: string | null }[]>`
      SELECT "firstName", "lastName", city FROM customers WHERE "tenantId" = ${TENANT} AND "externalId" = ${planted.ownerId}`
    expect(customer).toEqual({ firstName: '', lastName: SQL_NAME, city: 'תל אביב' })
    const pets = await bed.db.sql<{ externalId: string; name: string }[]>`
      SELECT "externalId", name FROM pets WHERE "tenantId" = ${TENANT} AND "externalId" IN (${planted.emptyPetId}, ${planted.nulPetId})`
    expect(Object.fromEntries(pets.map((p) => [p.externalId, p.name]))).toEqual({
      [planted.emptyPetId]: '',
      [planted.nulPetId]: 'Rex 🐕‍🦺',
    })
    const [service] = await bed.db.sql<{ name: string; category: string }[]>`
      SELECT name, "serviceCategory"::text AS category FROM services WHERE "tenantId" = ${TENANT} AND "externalId" = '77'`
    expect(service).toEqual({ name: '', category: 'OTHER' })
  })

  test('notes: SQL-looking, mixed scripts and a 1 MB note, byte for byte; NUL dropped', async () => {
    expect((await notesOf(planted.sqlStay)).notes).toBe(SQL_NOTE)
    expect((await notesOf(planted.mixedStay)).notes).toBe(MIXED_NOTE.replace('\u0000', ''))
    const huge = await notesOf(planted.hugeStay)
    expect(huge.notes?.length).toBe(HUGE_NOTE.length)
    expect(huge.md5).toBe(md5(HUGE_NOTE))
    const [tables] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customers WHERE "tenantId" = ${TENANT}`
    expect(tables!.n).toBeGreaterThan(0)
  })

  test('a rerun finds nothing to change: no row written', async () => {
    const before = await snapshot(bed.db.sql, TENANT)
    const result = await gingrSync(bed, ['--tenant', TENANT])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/Reservations: 0 created, 0 updated/)
    const tenantRow = `tenants ${TENANT} `
    expect((await snapshot(bed.db.sql, TENANT)).filter((v) => !v.startsWith(tenantRow))).toEqual(
      before.filter((v) => !v.startsWith(tenantRow)),
    )
  })

  test('a lone UTF-16 surrogate (an emoji cut in half, sent as a \\u escape) is stored as U+FFFD, not a failed run', async () => {
    bed.sim.account.changeReservation(planted.sqlStay, {
      notes: { reservation_notes: LONE_SURROGATE_NOTE, animal_notes: null, owner_notes: null },
    })
    const result = await gingrSync(bed, ['--tenant', TENANT])
    expect(result.stderr).toMatch(/Reservations: 0 created, 1 updated/)
    expect(result.code).toBe(0)
    expect((await notesOf(planted.sqlStay)).notes).toBe('cut emoji: \ufffd here')
  })
})
