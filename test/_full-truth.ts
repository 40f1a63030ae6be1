/**
 * "The customers and pets equal Gingr's owners and animals", column by column, for the full sync.
 * The expected values are derived here from the simulator's wire records and look-ups,
 * independently of src/sync/map-full.ts: a test that reused the mapping it checks could not
 * catch its mistakes. Notes columns are left out: they only fill Tailtown's empty ones.
 */
import type { Sql } from '../src/db/connect.ts'
import type { Simulator, WireAnimal, WireOwner } from '../src/simulator/index.ts'

export interface ExpectedCustomer {
  externalId: string
  firstName: string
  lastName: string
  phone: string | null
  alternatePhone: string | null
  address: string | null
  city: string | null
  state: string | null
  zipCode: string | null
  emergencyContact: string | null
  emergencyPhone: string | null
}

export interface ExpectedPet {
  externalId: string
  owner: string
  name: string
  type: string
  breed: string | null
  color: string | null
  gender: string
  /** `YYYY-MM-DD 00:00:00.000`: stored at midnight UTC of the day. */
  birthdate: string | null
  weight: number | null
  microchipNumber: string | null
  isNeutered: boolean
  isVip: boolean
}

const text = (value: string | null | undefined): string | null =>
  value === null || value === undefined || !/\S/.test(value) ? null : value
const tenDigits = (phone: string) => phone.replace(/\D/g, '').slice(-10)

export function expectedCustomer(owner: WireOwner): ExpectedCustomer {
  const cell = text(owner.cell_phone)
  const home = text(owner.home_phone)
  const lines = [text(owner.address_1), text(owner.address_2)].filter((line) => line !== null)
  return {
    externalId: owner.id,
    firstName: owner.first_name,
    lastName: owner.last_name,
    phone: cell ?? home,
    alternatePhone: cell !== null && home !== null && tenDigits(cell) !== tenDigits(home) ? home : null,
    address: lines.length > 0 ? lines.join(', ') : null,
    city: text(owner.city),
    state: text(owner.state),
    zipCode: text(owner.zip),
    emergencyContact: text(owner.emergency_contact_name),
    emergencyPhone: text(owner.emergency_contact_phone),
  }
}

const TYPES: Record<string, string> = { Dog: 'DOG', Cat: 'CAT', Bird: 'BIRD', Rabbit: 'RABBIT', Reptile: 'REPTILE' }

/** The facility's calendar day of a unix instant, by Intl (not by the code under test). */
function dayIn(seconds: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(seconds * 1000))
}

export function expectedPet(
  animal: WireAnimal,
  lookups: { breeds: Map<string, string>; species: Map<string, string> },
  timeZone: string,
): ExpectedPet {
  const species = lookups.species.get(animal.species_id) ?? ''
  const weight = text(animal.weight)
  const birthday = text(animal.birthday)
  return {
    externalId: animal.id,
    owner: animal.owner_id,
    name: animal.first_name,
    type: TYPES[species] ?? 'OTHER',
    breed: animal.breed_id === null ? null : (lookups.breeds.get(animal.breed_id) ?? null),
    color: text(animal.color),
    gender: animal.gender === 'Male' ? 'MALE' : animal.gender === 'Female' ? 'FEMALE' : 'UNKNOWN',
    birthdate: birthday === null || Number(birthday) <= 0 ? null : `${dayIn(Number(birthday), timeZone)} 00:00:00.000`,
    weight: weight === null ? null : Number(weight),
    microchipNumber: text(animal.microchip),
    isNeutered: animal.fixed === '1',
    isVip: animal.vip === '1',
  }
}

/** The look-ups as the simulator serves them, read over HTTP. */
export async function lookupsOf(sim: Simulator): Promise<{ breeds: Map<string, string>; species: Map<string, string> }> {
  const read = async (endpoint: string) => {
    const response = await fetch(`${sim.baseUrl}${endpoint}`, { method: 'POST', body: new URLSearchParams({ key: sim.apiKey }) })
    const body = (await response.json()) as { data: { value: string; label: string }[] }
    return new Map(body.data.map((entry) => [entry.value, entry.label]))
  }
  return { breeds: await read('/get_breeds'), species: await read('/get_species') }
}

/** The tenant's customers with a Gingr id, as ExpectedCustomer, one per Gingr id (the oldest row). */
export async function storedCustomers(sql: Sql, tenantId: string): Promise<ExpectedCustomer[]> {
  return [
    ...(await sql<ExpectedCustomer[]>`
    SELECT DISTINCT ON ("externalId") "externalId", "firstName", "lastName", phone, "alternatePhone", address, city, state,
           "zipCode", "emergencyContact", "emergencyPhone"
    FROM customers WHERE "tenantId" = ${tenantId} AND "externalId" IS NOT NULL
    ORDER BY "externalId", "createdAt", id`),
  ]
}

/** The tenant's pets as ExpectedPet (legacy ids read as the animal's), the birthdate as stored wall time. */
export async function storedPets(sql: Sql, tenantId: string): Promise<ExpectedPet[]> {
  return [
    ...(await sql<ExpectedPet[]>`
    SELECT regexp_replace(p."externalId", '-tailtown$', '') AS "externalId", c."externalId" AS owner, p.name, p.type::text AS type,
           p.breed, p.color, p.gender::text AS gender, to_char(p.birthdate, 'YYYY-MM-DD HH24:MI:SS.MS') AS birthdate, p.weight,
           p."microchipNumber", p."isNeutered", p."isVip"
    FROM pets p JOIN customers c ON c.id = p."customerId"
    WHERE p."tenantId" = ${tenantId} AND p."externalId" IS NOT NULL
    ORDER BY 1`),
  ]
}

/** Every row Gingr's account should have become, and what the database holds, sorted alike. */
export async function fullTruth(sql: Sql, tenantId: string, sim: Simulator, timeZone: string) {
  const lookups = await lookupsOf(sim)
  const byId = <T extends { externalId: string }>(rows: T[]) => rows.sort((a, b) => (a.externalId < b.externalId ? -1 : 1))
  return {
    expected: {
      customers: byId([...sim.account.owners.values()].map(expectedCustomer)),
      pets: byId([...sim.account.animals.values()].map((animal) => expectedPet(animal, lookups, timeZone))),
    },
    stored: { customers: byId(await storedCustomers(sql, tenantId)), pets: byId(await storedPets(sql, tenantId)) },
  }
}
