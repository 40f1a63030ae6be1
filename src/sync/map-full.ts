import type { FullCustomerRow, FullPetRow, FullRows, Gender } from '../db/full-writes.ts'
import type { PetType } from '../db/writes.ts'
import type { Animal, Lookup, Owner } from '../gingr/schemas.ts'
import { clean, joinAddress, ownerEmail } from './map.ts'

/** Gingr's look-ups, by id: `/get_breeds` and `/get_species`. */
export interface Lookups {
  breeds: ReadonlyMap<string, string>
  species: ReadonlyMap<string, string>
}

export function lookupMap(records: readonly Lookup[]): Map<string, string> {
  return new Map(records.map((record) => [record.value, record.label]))
}

/**
 * The owners and animals of a full sync as the rows the database layer writes. Gingr's lists may
 * repeat a record: each id is kept once, the last one listed (as the reservation window merges).
 */
export function mapFull(
  owners: readonly Owner[],
  animals: readonly Animal[],
  lookups: Lookups,
  unreadable: FullRows['unreadable'],
): FullRows {
  const customers = new Map<string, FullCustomerRow>()
  for (const owner of owners) customers.set(owner.id, customerRow(owner))
  const pets = new Map<string, FullPetRow>()
  for (const animal of animals) pets.set(animal.id, petRow(animal, lookups))
  return { customers: [...customers.values()], pets: [...pets.values()], unreadable }
}

/** Owners alone, as customer rows (the hourly refresh of changed owners): each id once, the last listed. */
export function customerRows(owners: readonly Owner[]): FullCustomerRow[] {
  return [...new Map(owners.map((owner) => [owner.id, customerRow(owner)])).values()]
}

function customerRow(owner: Owner): FullCustomerRow {
  const cell = clean(owner.cell_phone)
  const home = clean(owner.home_phone)
  return {
    externalId: owner.id,
    firstName: clean(owner.first_name),
    lastName: clean(owner.last_name),
    email: ownerEmail(owner.email),
    // The cell phone is the main one; without it, the home phone. The home phone is the other one
    // only beside a cell phone, and not when it is the same number written another way.
    phone: cell ?? home,
    alternatePhone: cell !== null && home !== null && digits(home) !== digits(cell) ? home : null,
    address: joinAddress(owner.address_1, owner.address_2),
    city: clean(owner.city),
    state: clean(owner.state),
    zipCode: clean(owner.zip),
    emergencyContact: clean(owner.emergency_contact_name),
    emergencyPhone: clean(owner.emergency_contact_phone),
    // Notes that were only NULs are none: '' would "fill" Tailtown's empty notes on every run.
    notes: clean(owner.notes) || null,
  }
}

function petRow(animal: Animal, lookups: Lookups): FullPetRow {
  const breedId = animal.breed_id
  const breed = breedId === null ? null : (lookups.breeds.get(breedId) ?? null)
  return {
    externalId: animal.id,
    ownerExternalId: animal.owner_id,
    name: clean(animal.first_name),
    type: petType(animal.species_id, lookups.species),
    breed: clean(breed),
    // A breed id the look-up does not list says nothing about the breed: Tailtown's stays.
    keepBreed: breedId !== null && breed === null,
    color: clean(animal.color),
    gender: gender(animal.gender),
    birthdate: animal.birthday,
    weight: animal.weight,
    microchipNumber: clean(animal.microchip),
    isNeutered: animal.fixed,
    isVip: animal.vip,
    notes: clean(animal.notes),
    foodNotes: clean(animal.feeding_notes),
    medicationNotes: clean(animal.medicines),
    allergies: clean(animal.allergies),
    behaviorNotes: clean(animal.temperment),
  }
}

/** Species labels as front desks name them (Gingr's look-up is the account's own list). */
const TYPES: ReadonlyArray<readonly [RegExp, PetType]> = [
  [/\b(dog|canine|puppy)s?\b|\bpuppies\b/i, 'DOG'],
  [/\b(cat|feline|kitten)s?\b/i, 'CAT'],
  [/\b(bird|avian|parrot|parakeet|budgie|cockatiel|canary|canaries)s?\b/i, 'BIRD'],
  [/\b(rabbit|bunny)s?\b|\bbunnies\b/i, 'RABBIT'],
  [/\b(reptile|lizard|snake|turtle|tortoise|gecko|iguana)s?\b/i, 'REPTILE'],
]

/**
 * The pet type from the species' label; a species the look-up does not list falls back on the
 * ids Gingr documents ("1" dog, "2" cat), as the hourly run reads them; anything else is OTHER.
 */
export function petType(speciesId: string | null, species: ReadonlyMap<string, string>): PetType {
  if (speciesId === null) return 'OTHER'
  const label = species.get(speciesId)
  if (label === undefined) return speciesId === '1' ? 'DOG' : speciesId === '2' ? 'CAT' : 'OTHER'
  return TYPES.find(([pattern]) => pattern.test(label))?.[1] ?? 'OTHER'
}

/** "Male"/"Female" as Gingr writes them (any case, or just M/F); anything else is UNKNOWN. */
export function gender(text: string | null): Gender {
  const word = text?.trim().toLowerCase() ?? ''
  if (word === 'male' || word === 'm') return 'MALE'
  if (word === 'female' || word === 'f') return 'FEMALE'
  return 'UNKNOWN'
}

const digits = (phone: string) => phone.replace(/\D/g, '').slice(-10)
