/**
 * Generated owners and animals. The quirks are planted on purpose and early (the first owners
 * always include a missing and an empty email and a shared one), so even a small account shows
 * them: Gingr owners without an email, and distinct owners sharing one, are common.
 */
import { Random } from './random.ts'
import {
  ALLERGIES,
  BREEDS,
  CITIES,
  COLORS,
  FIRST_NAMES,
  LAST_NAMES,
  MEDICINES,
  NOTES,
  PET_NAMES,
  SPECIES,
  STREETS,
  TEMPERAMENTS,
} from './samples.ts'
import type { WireAnimal, WireOwner } from './wire.ts'

const FIRST_OWNER_ID = 455
const FIRST_ANIMAL_ID = 812
const DOMAINS = ['example.com', 'example.net', 'example.org'] as const
const ZIPS = ['80202', '80302', '80012', '80226', '80401', '80120', '80002'] as const
const PHONE_FORMATS = { paren: 40, dash: 30, intl: 10, digits: 10, none: 5, empty: 5 }
const EMAIL_KINDS = { normal: 88, missing: 4, empty: 4, shouty: 4 }
const WEIGHT_KINDS = { some: 85, none: 8, empty: 7 }
const SPECIES_MIX = { dog: 75, cat: 20, other: 5 }

function maybe<T>(rng: Random, probability: number, value: () => T): T | null {
  return rng.chance(probability) ? value() : null
}

/** An email's local part: accents dropped, apostrophes kept (they are legal and they happen). */
function emailPart(name: string): string {
  const ascii = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9'.-]/g, '')
  return ascii === '' ? 'owner' : ascii
}

function phone(rng: Random): string | null {
  const area = rng.pick(['303', '720', '970'])
  const line = `01${String(rng.int(0, 99)).padStart(2, '0')}`
  const format = rng.weighted(PHONE_FORMATS)
  switch (format) {
    case 'paren':
      return `(${area}) 555-${line}`
    case 'dash':
      return `${area}-555-${line}`
    case 'intl':
      return `+1 ${area} 555 ${line}`
    case 'digits':
      return `${area}555${line}`
    case 'none':
      return null
    case 'empty':
      return ''
  }
}

function email(rng: Random, index: number, first: string, last: string, previous: WireOwner | undefined): string | null {
  if (index === 2) return null
  if (index === 3) return ''
  const shared = previous?.email
  if (shared && (index === 1 || rng.chance(0.03))) return shared
  // Owner 0 always has an address, for owner 1 to share.
  const kind = index === 0 ? 'normal' : rng.weighted(EMAIL_KINDS)
  if (kind === 'missing') return null
  if (kind === 'empty') return ''
  const address = `${emailPart(first)}.${emailPart(last)}${rng.int(1, 99)}@${rng.pick(DOMAINS)}`
  // Case differs between two spellings of one address, which a unique index on email does not see.
  return kind === 'shouty' ? address.replace(/^./, (c) => c.toUpperCase()).replace('@e', '@E') : address
}

export function generateOwners(seed: number, count: number): Map<string, WireOwner> {
  const rng = new Random(seed, 'owners')
  const owners = new Map<string, WireOwner>()
  let id = FIRST_OWNER_ID
  let previous: WireOwner | undefined
  for (let index = 0; index < count; index++) {
    const first = rng.pick(FIRST_NAMES)
    // The owner sharing an email is a spouse: same family name, other first name.
    const last = index === 1 && previous ? previous.last_name : rng.pick(LAST_NAMES)
    const owner: WireOwner = {
      id: String(id),
      first_name: first,
      last_name: last,
      email: email(rng, index, first, last, previous),
      cell_phone: phone(rng),
      home_phone: maybe(rng, 0.3, () => phone(rng)),
      address_1: `${rng.int(100, 9999)} ${rng.pick(STREETS)}`,
      address_2: rng.pick([null, null, null, '', `Apt ${rng.int(1, 40)}`]),
      city: rng.pick(CITIES),
      state: rng.chance(0.95) ? 'CO' : 'Colorado',
      zip: rng.pick(ZIPS),
      emergency_contact_name: maybe(rng, 0.6, () => `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`),
      emergency_contact_phone: maybe(rng, 0.6, () => phone(rng)),
      notes: maybe(rng, 0.4, () => rng.pick(NOTES)),
    }
    owners.set(owner.id, Object.freeze(owner))
    previous = owner
    id += rng.int(1, 3)
  }
  return owners
}

function breedFor(rng: Random, species: string): string | null {
  const ids = [...BREEDS].filter(([, breed]) => breed.species === species).map(([breedId]) => breedId)
  return rng.chance(0.05) ? null : rng.pick(ids)
}

function weight(rng: Random, species: string): string | null {
  const [min, max] = species === SPECIES.dog ? [8, 120] : species === SPECIES.cat ? [6, 18] : [1, 6]
  return rng.weighted(WEIGHT_KINDS) === 'some' ? (min + rng.next() * (max - min)).toFixed(1) : rng.chance(0.5) ? null : ''
}

/**
 * Every owner gets an animal first (while there are animals to give), the rest go to random
 * owners, so some households have several pets. Animal 0 is always a dog.
 */
export function generateAnimals(seed: number, count: number, owners: readonly WireOwner[], today: string): Map<string, WireAnimal> {
  const rng = new Random(seed, 'animals')
  const animals = new Map<string, WireAnimal>()
  const todaySeconds = Date.parse(`${today}T12:00:00Z`) / 1000
  let id = FIRST_ANIMAL_ID
  for (let index = 0; index < count; index++) {
    const owner = index < owners.length ? owners[index] : rng.pick(owners)
    if (owner === undefined) throw new RangeError('Animals need at least one owner')
    const kind = index === 0 ? 'dog' : rng.weighted(SPECIES_MIX)
    const species = SPECIES[kind]
    const animal: WireAnimal = {
      id: String(id),
      owner_id: owner.id,
      first_name: rng.pick(PET_NAMES),
      species_id: species,
      breed_id: breedFor(rng, species),
      color: maybe(rng, 0.9, () => rng.pick(COLORS)),
      gender: rng.pick(['Male', 'Female', 'Male', 'Female', null] as const),
      birthday: maybe(rng, 0.9, () => String(Math.floor(todaySeconds - rng.int(120, 5500) * 86_400))),
      weight: weight(rng, species),
      microchip: maybe(rng, 0.6, () => `985${String(rng.int(0, 999_999_999_999)).padStart(12, '0')}`),
      vet_id: maybe(rng, 0.7, () => String(rng.int(1, 12))),
      medicines: rng.chance(0.15) ? rng.pick(MEDICINES) : rng.pick([null, '']),
      allergies: maybe(rng, 0.1, () => rng.pick(ALLERGIES)),
      notes: maybe(rng, 0.4, () => rng.pick(NOTES)),
      feeding_notes: maybe(rng, 0.5, () => rng.pick(['1 cup twice daily', '½ can wet food AM', 'Own food, see bag'])),
      grooming_notes: maybe(rng, 0.2, () => 'Sensitive paws; #7 blade on body'),
      temperment: maybe(rng, 0.8, () => rng.pick(TEMPERAMENTS)),
      fixed: rng.chance(0.8) ? '1' : '0',
      vip: rng.chance(0.05) ? '1' : '0',
      banned: rng.chance(0.02) ? '1' : '0',
      image: maybe(rng, 0.5, () => `https://cdn.example.com/pets/${id}.jpg`),
    }
    animals.set(animal.id, Object.freeze(animal))
    id += rng.int(1, 3)
  }
  return animals
}
