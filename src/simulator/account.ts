/**
 * One Gingr business account: the generated data plus the mutations tests use to make the next
 * answer differ from the last (a new booking, a changed stay, a check-in, a cancellation, a
 * deletion that simply makes a reservation stop being returned).
 */
import { generateAnimals, generateOwners } from './people.ts'
import { deepFreeze, embeddedAnimal, embeddedOwner, instantsOf, nextId, reservationRecord } from './records.ts'
import { RESERVATION_TYPES } from './samples.ts'
import { generateReservations } from './stays.ts'
import type { WireAnimal, WireOwner, WireReservation, WireReservationType } from './wire.ts'
import { addDays, formatInZone, isCalendarDay, localInstant } from './zone.ts'

export interface SimAccount {
  readonly timeZone: string
  readonly today: string
  owners: Map<string, WireOwner>
  animals: Map<string, WireAnimal>
  reservations: Map<string, WireReservation>
  reservationTypes: Map<string, WireReservationType>
  /** When each owner was last created or changed (ms since epoch): what `/new_modified_owners` reads. */
  ownerModifiedAt: Map<string, number>
  addOwner(overrides?: Partial<WireOwner>): WireOwner
  addAnimal(ownerId: string, overrides?: Partial<WireAnimal>): WireAnimal
  changeOwner(id: string, patch: Partial<WireOwner>, at?: Date): WireOwner
  deleteOwner(id: string): string[]
  changeAnimal(id: string, patch: Partial<WireAnimal>): WireAnimal
  rehomeAnimal(id: string, ownerId: string): WireAnimal
  deleteAnimal(id: string): void
  modifiedOwners(from: string, to: string): WireOwner[]
  addReservation(spec?: AddReservationSpec): WireReservation
  changeReservation(id: string, patch: Partial<WireReservation>): WireReservation
  moveReservation(id: string, start: Date, end: Date): WireReservation
  checkIn(id: string, at?: Date): void
  checkOut(id: string, at?: Date): void
  cancelReservation(id: string, at?: Date): void
  deleteReservation(id: string): void
  matching(from: string, to: string): WireReservation[]
}

export interface AddReservationSpec {
  /** Default: the next free numeric id. Any string, so that a test can plant an id no database takes. */
  id?: string
  start?: Date
  end?: Date
  typeId?: string
  animalId?: string
  notes?: string | null
}

export type MatchMode = 'overlap' | 'start'

export interface AccountOptions {
  seed: number
  owners: number
  animals: number
  reservations: number
  timeZone: string
  today: string
  match: MatchMode
  /** How many locations /get_locations lists; every stay is at location "1" until a test moves it. */
  locations?: number
}

const HOUR = 3_600_000
const DEFAULT_TYPE_ID = '3'

/** Answers list stays by start, then id: the order a SQL `ORDER BY start_date` would give. */
function byStart(records: WireReservation[]): WireReservation[] {
  return records
    .map((record) => ({ record, instants: instantsOf(record) }))
    .sort((a, b) => a.instants.start - b.instants.start || a.instants.id - b.instants.id)
    .map(({ record }) => record)
}

export class Account implements SimAccount {
  readonly timeZone: string
  readonly today: string
  readonly match: MatchMode
  readonly locations: number
  owners: Map<string, WireOwner>
  animals: Map<string, WireAnimal>
  reservations: Map<string, WireReservation>
  reservationTypes: Map<string, WireReservationType>
  ownerModifiedAt: Map<string, number>

  constructor(options: AccountOptions) {
    this.timeZone = options.timeZone
    this.today = options.today
    this.match = options.match
    this.locations = options.locations ?? 1
    this.owners = generateOwners(options.seed, options.owners)
    this.animals = generateAnimals(options.seed, options.animals, [...this.owners.values()], options.today)
    this.reservations = generateReservations({
      seed: options.seed,
      count: options.reservations,
      timeZone: options.timeZone,
      today: options.today,
      owners: this.owners,
      animals: this.animals,
    })
    this.ownerModifiedAt = generatedModifiedAt(this.owners, options.today, options.timeZone)
    this.reservationTypes = new Map(RESERVATION_TYPES.map(({ kind: _kind, species: _species, ...type }) => [type.id, deepFreeze(type)]))
  }

  /** `[from 00:00, to + 1 day 00:00)` in the facility's zone: the end date is inclusive. */
  private range(from: string, to: string): [number, number] {
    if (!isCalendarDay(from) || !isCalendarDay(to)) throw new RangeError(`Not a YYYY-MM-DD range: ${from}..${to}`)
    return [localInstant(from, 0, this.timeZone), localInstant(addDays(to, 1), 0, this.timeZone)]
  }

  /** No 30-day check here: this is the rule itself, for any range, so tests can predict answers. */
  matching(from: string, to: string): WireReservation[] {
    const [low, high] = this.range(from, to)
    const overlap = this.match === 'overlap'
    const found: WireReservation[] = []
    for (const record of this.reservations.values()) {
      const { start, end } = instantsOf(record)
      if (overlap ? start < high && end > low : start >= low && start < high) found.push(record)
    }
    return byStart(found)
  }

  /** `checked_in=true`: in the building now, whatever the dates say. */
  checkedIn(): WireReservation[] {
    const found = [...this.reservations.values()].filter(
      (record) => record.check_in_date !== null && record.check_out_date === null && record.cancelled_date === null,
    )
    return byStart(found)
  }

  /** `/recently_cancelled_reservations`: cancelled_date inside the range, same range rules. */
  cancelledBetween(from: string, to: string): WireReservation[] {
    const [low, high] = this.range(from, to)
    const found = [...this.reservations.values()].filter((record) => {
      const { cancelled } = instantsOf(record)
      return cancelled >= low && cancelled < high
    })
    return byStart(found)
  }

  private stamp(at: Date): string {
    return formatInZone(at.getTime(), this.timeZone)
  }

  addOwner(overrides: Partial<WireOwner> = {}): WireOwner {
    const id = overrides.id ?? nextId(this.owners.keys(), 455)
    const owner: WireOwner = deepFreeze({
      first_name: 'New',
      last_name: `Owner ${id}`,
      email: null,
      cell_phone: null,
      home_phone: null,
      address_1: null,
      address_2: null,
      city: null,
      state: null,
      zip: null,
      emergency_contact_name: null,
      emergency_contact_phone: null,
      notes: null,
      ...overrides,
      id,
    })
    this.owners.set(id, owner)
    this.ownerModifiedAt.set(id, Date.now())
    return owner
  }

  /**
   * An owner edited in Gingr (patch applied as is, unchecked): stamped modified at `at` (default
   * now), and the copies reservations embed follow, as Gingr's answers always show the owner as
   * it is now.
   */
  changeOwner(id: string, patch: Partial<WireOwner>, at: Date = new Date()): WireOwner {
    const current = this.owners.get(id)
    if (current === undefined) throw new RangeError(`No owner ${id}`)
    if (patch.id !== undefined && patch.id !== id) throw new RangeError('An owner keeps its id; delete it and add another instead')
    const changed = deepFreeze({ ...current, ...patch })
    this.owners.set(id, changed)
    this.ownerModifiedAt.set(id, at.getTime())
    for (const record of this.reservations.values()) {
      if (record.owner.id !== id) continue
      this.changeReservation(record.reservation_id, {
        owner: embeddedOwner(changed),
        notes: { ...record.notes, owner_notes: changed.notes },
      })
    }
    return changed
  }

  /** An owner deleted in Gingr, and its animals with it; returns the animals' ids. Reservations stay as they were. */
  deleteOwner(id: string): string[] {
    if (!this.owners.delete(id)) throw new RangeError(`No owner ${id}`)
    this.ownerModifiedAt.delete(id)
    const animals = [...this.animals.values()].filter((animal) => animal.owner_id === id).map((animal) => animal.id)
    for (const animal of animals) this.animals.delete(animal)
    return animals
  }

  /** An animal edited in Gingr (patch applied as is, unchecked); its reservations embed the new name, breed and notes. */
  changeAnimal(id: string, patch: Partial<WireAnimal>): WireAnimal {
    const current = this.animals.get(id)
    if (current === undefined) throw new RangeError(`No animal ${id}`)
    if (patch.id !== undefined && patch.id !== id) throw new RangeError('An animal keeps its id; delete it and add another instead')
    if (patch.owner_id !== undefined && !this.owners.has(patch.owner_id)) throw new RangeError(`No owner ${patch.owner_id}`)
    const changed = deepFreeze({ ...current, ...patch })
    this.animals.set(id, changed)
    for (const record of this.reservations.values()) {
      if (record.animal.id !== id) continue
      this.changeReservation(record.reservation_id, {
        animal: embeddedAnimal(changed),
        notes: { ...record.notes, animal_notes: changed.notes },
        warnings: { medicines: changed.medicines, allergies: changed.allergies },
      })
    }
    return changed
  }

  /** The animal now belongs to another owner; its past reservations keep the owner they were booked by. */
  rehomeAnimal(id: string, ownerId: string): WireAnimal {
    const current = this.animals.get(id)
    if (current === undefined) throw new RangeError(`No animal ${id}`)
    if (!this.owners.has(ownerId)) throw new RangeError(`No owner ${ownerId}`)
    const moved = deepFreeze({ ...current, owner_id: ownerId })
    this.animals.set(id, moved)
    return moved
  }

  deleteAnimal(id: string): void {
    if (!this.animals.delete(id)) throw new RangeError(`No animal ${id}`)
  }

  /** `/new_modified_owners`: owners created or changed within `[from 00:00, to + 1 day 00:00)` in the zone, by id. */
  modifiedOwners(from: string, to: string): WireOwner[] {
    const [low, high] = this.range(from, to)
    const found: WireOwner[] = []
    for (const [id, at] of this.ownerModifiedAt) {
      const owner = this.owners.get(id)
      if (owner !== undefined && at >= low && at < high) found.push(owner)
    }
    return found.sort((a, b) => Number(a.id) - Number(b.id))
  }

  addAnimal(ownerId: string, overrides: Partial<WireAnimal> = {}): WireAnimal {
    if (!this.owners.has(ownerId)) throw new RangeError(`No owner ${ownerId}`)
    const id = overrides.id ?? nextId(this.animals.keys(), 812)
    const animal: WireAnimal = deepFreeze({
      first_name: 'New Pet',
      species_id: '1',
      breed_id: '16',
      color: null,
      gender: null,
      birthday: null,
      weight: null,
      microchip: null,
      vet_id: null,
      medicines: null,
      allergies: null,
      notes: null,
      feeding_notes: null,
      grooming_notes: null,
      temperment: null,
      fixed: '0',
      vip: '0',
      banned: '0',
      image: null,
      ...overrides,
      id,
      owner_id: ownerId,
    } satisfies WireAnimal)
    this.animals.set(id, animal)
    return animal
  }

  /**
   * A confirmed booking made now (real clock). Defaults: type 3 (Boarding | Indoor Suite), the
   * account's first animal, tomorrow 08:00 local, ending 51 hours later (11:00 two days on).
   */
  addReservation(spec: AddReservationSpec = {}): WireReservation {
    const animal = spec.animalId === undefined ? this.animals.values().next().value : this.animals.get(spec.animalId)
    if (animal === undefined) throw new RangeError(`No animal ${spec.animalId ?? '(the account has none)'}`)
    const owner = this.owners.get(animal.owner_id)
    if (owner === undefined) throw new RangeError(`Animal ${animal.id} has no owner`)
    const type = this.reservationTypes.get(spec.typeId ?? DEFAULT_TYPE_ID)
    if (type === undefined) throw new RangeError(`No reservation type ${spec.typeId ?? DEFAULT_TYPE_ID}`)
    if (spec.id !== undefined && this.reservations.has(spec.id)) throw new RangeError(`Reservation ${spec.id} exists already`)
    const start = spec.start?.getTime() ?? localInstant(addDays(this.today, 1), 8 * 60, this.timeZone)
    const now = Date.now()
    const record = reservationRecord(
      {
        id: spec.id ?? nextId(this.reservations.keys(), 6904),
        start,
        end: spec.end?.getTime() ?? start + 51 * HOUR,
        stamps: { created: now, confirmed: now, checkedIn: null, checkedOut: null, cancelled: null, waitListed: null },
        type,
        animal,
        owner,
        reservationNotes: spec.notes ?? null,
        services: [],
        transaction: [],
        deposit: [],
        standing: false,
        source: 'Front Desk',
        customFields: [],
      },
      this.timeZone,
    )
    this.reservations.set(record.reservation_id, record)
    return record
  }

  changeReservation(id: string, patch: Partial<WireReservation>): WireReservation {
    const current = this.reservations.get(id)
    if (current === undefined) throw new RangeError(`No reservation ${id}`)
    if (patch.reservation_id !== undefined && patch.reservation_id !== id) {
      throw new RangeError('A reservation keeps its id; delete it and add another instead')
    }
    const changed = deepFreeze({ ...current, ...patch })
    this.reservations.set(id, changed)
    return changed
  }

  moveReservation(id: string, start: Date, end: Date): WireReservation {
    return this.changeReservation(id, { start_date: this.stamp(start), end_date: this.stamp(end) })
  }

  checkIn(id: string, at: Date = new Date()): void {
    this.changeReservation(id, { check_in_date: this.stamp(at) })
  }

  checkOut(id: string, at: Date = new Date()): void {
    this.changeReservation(id, { check_out_date: this.stamp(at) })
  }

  cancelReservation(id: string, at: Date = new Date()): void {
    this.changeReservation(id, { cancelled_date: this.stamp(at) })
  }

  deleteReservation(id: string): void {
    if (!this.reservations.delete(id)) throw new RangeError(`No reservation ${id}`)
  }
}

/**
 * When generated owners were last changed: a pure function of the id, spread over the two years
 * before `today` (09:00 local), so that a `/new_modified_owners` range finds a predictable few.
 */
function generatedModifiedAt(owners: ReadonlyMap<string, WireOwner>, today: string, timeZone: string): Map<string, number> {
  const stamps = new Map<string, number>()
  for (const id of owners.keys()) stamps.set(id, localInstant(addDays(today, -1 - ((Number(id) * 7919) % 730)), 9 * 60, timeZone))
  return stamps
}
