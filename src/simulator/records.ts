/**
 * Assembling wire records, shared by the generator and the account's mutations so that a
 * reservation added at run time looks exactly like a generated one.
 */
import { BREEDS } from './samples.ts'
import type { WireAnimal, WireOwner, WireReservation, WireReservationOwner, WireReservationType, WireService } from './wire.ts'
import { formatInZone } from './zone.ts'

/**
 * Records are frozen, deeply: the account caches each one's JSON and instants by identity, so a
 * change must go through the account (a new object) and an in-place edit throws instead of being
 * silently ignored by the cache.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** The nested objects of a generated reservation, frozen without a generic walk (50,000 of them). */
function freezeReservation(record: WireReservation): WireReservation {
  Object.freeze(record.reservation_type)
  Object.freeze(record.animal)
  Object.freeze(record.owner)
  Object.freeze(record.notes)
  Object.freeze(record.warnings)
  for (const service of record.services) Object.freeze(service)
  Object.freeze(record.services)
  Object.freeze(record.transaction)
  Object.freeze(record.deposit)
  Object.freeze(record.custom_fields)
  return Object.freeze(record)
}

/** What matching and ordering need, parsed once per record object. NaN = absent or unreadable. */
export interface Instants {
  start: number
  end: number
  cancelled: number
  id: number
}

const instantCache = new WeakMap<WireReservation, Instants>()

export function instantsOf(record: WireReservation): Instants {
  let instants = instantCache.get(record)
  if (instants === undefined) {
    deepFreeze(record)
    instants = {
      start: Date.parse(record.start_date),
      end: Date.parse(record.end_date),
      cancelled: record.cancelled_date === null ? Number.NaN : Date.parse(record.cancelled_date),
      id: Number(record.reservation_id),
    }
    instantCache.set(record, instants)
  }
  return instants
}

/** Reservations carry a subset of the owner, with the state under the name `region`. */
export function embeddedOwner(owner: WireOwner): WireReservationOwner {
  return {
    id: owner.id,
    first_name: owner.first_name,
    last_name: owner.last_name,
    email: owner.email,
    cell_phone: owner.cell_phone,
    address_1: owner.address_1,
    address_2: owner.address_2,
    city: owner.city,
    region: owner.state,
  }
}

export function embeddedAnimal(animal: WireAnimal): WireReservation['animal'] {
  const breed = animal.breed_id === null ? undefined : BREEDS.get(animal.breed_id)
  return { id: animal.id, name: animal.first_name, breed: breed?.name ?? null }
}

/** The moments that decide a reservation's status; null = never happened. Milliseconds since epoch. */
export interface StatusStamps {
  created: number | null
  confirmed: number | null
  checkedIn: number | null
  checkedOut: number | null
  cancelled: number | null
  waitListed: number | null
}

export interface ReservationParts {
  id: string
  start: number
  end: number
  stamps: StatusStamps
  type: WireReservationType
  animal: WireAnimal
  owner: WireOwner
  reservationNotes: string | null
  services: WireService[]
  transaction: WireReservation['transaction']
  deposit: WireReservation['deposit']
  standing: boolean
  source: string
  customFields: WireReservation['custom_fields']
}

export function reservationRecord(parts: ReservationParts, timeZone: string): WireReservation {
  const stamp = (ms: number | null): string | null => (ms === null ? null : formatInZone(ms, timeZone))
  const record = freezeReservation({
    reservation_id: parts.id,
    standing_reservation: parts.standing,
    start_date: formatInZone(parts.start, timeZone),
    end_date: formatInZone(parts.end, timeZone),
    created_date: stamp(parts.stamps.created),
    confirmed_date: stamp(parts.stamps.confirmed),
    check_in_date: stamp(parts.stamps.checkedIn),
    check_out_date: stamp(parts.stamps.checkedOut),
    cancelled_date: stamp(parts.stamps.cancelled),
    wait_list_date: stamp(parts.stamps.waitListed),
    reservation_type: { id: parts.type.id, type: parts.type.type },
    animal: embeddedAnimal(parts.animal),
    owner: embeddedOwner(parts.owner),
    notes: {
      reservation_notes: parts.reservationNotes,
      animal_notes: parts.animal.notes,
      owner_notes: parts.owner.notes,
    },
    warnings: { medicines: parts.animal.medicines, allergies: parts.animal.allergies },
    services: parts.services,
    transaction: parts.transaction,
    deposit: parts.deposit,
    location_id: '1',
    source: parts.source,
    custom_fields: parts.customFields,
  })
  // Known already: spares parsing the timestamps back (the seconds are dropped, as on the wire).
  const second = (ms: number): number => Math.floor(ms / 1000) * 1000
  instantCache.set(record, {
    start: second(parts.start),
    end: second(parts.end),
    cancelled: parts.stamps.cancelled === null ? Number.NaN : second(parts.stamps.cancelled),
    id: Number(parts.id),
  })
  return record
}

/** The next free numeric id of a map keyed by numeric strings (entries may be added by hand). */
export function nextId(keys: Iterable<string>, first: number): string {
  let max = first - 1
  for (const key of keys) {
    const value = Number(key)
    if (Number.isSafeInteger(value) && value > max) max = value
  }
  return String(max + 1)
}
