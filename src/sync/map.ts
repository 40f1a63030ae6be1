import type {
  CustomerRow,
  PetRow,
  PetType,
  ReservationRow,
  ReservationStatus,
  ServiceCategory,
  ServiceRow,
  WindowRows,
} from '../db/writes.ts'
import type { Reservation } from '../gingr/schemas.ts'

/**
 * Status as Tailtown reads it: Gingr has no status field, only the dates at which a reservation
 * was confirmed, checked in, checked out or cancelled. The latest step wins.
 */
export function reservationStatus(r: Reservation): ReservationStatus {
  if (r.cancelled_date) return 'CANCELLED'
  if (r.check_out_date) return 'COMPLETED'
  if (r.check_in_date) return 'CHECKED_IN'
  if (r.confirmed_date) return 'CONFIRMED'
  return 'PENDING'
}

const CATEGORIES: ReadonlyArray<readonly [RegExp, ServiceCategory]> = [
  [/boarding|lodging/i, 'BOARDING'],
  [/day ?camp|daycare|day care/i, 'DAYCARE'],
  [/groom/i, 'GROOMING'],
  [/training|class/i, 'TRAINING'],
]

/** A Gingr reservation type's text ("Boarding | Indoor Suite") names its category. */
export function serviceCategory(typeName: string): ServiceCategory {
  return CATEGORIES.find(([pattern]) => pattern.test(typeName))?.[1] ?? 'OTHER'
}

/** Minutes a service lasts by default: the column is NOT NULL and Gingr does not say. */
const DURATIONS: Record<ServiceCategory, number> = {
  BOARDING: 1440,
  DAYCARE: 480,
  GROOMING: 60,
  TRAINING: 60,
  OTHER: 60,
}

/** Gingr's species ids: 1 dog, 2 cat; anything else (or nothing) is OTHER. */
function petType(speciesId: string | null | undefined): PetType {
  if (speciesId === '1') return 'DOG'
  if (speciesId === '2') return 'CAT'
  return 'OTHER'
}

/** Text is stored verbatim, except NUL, which PostgreSQL refuses in text and jsonb alike. */
export function clean(text: string): string
export function clean(text: string | null | undefined): string | null
export function clean(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
}

/**
 * `.invalid` is reserved (RFC 2606, 6761): no address there reaches anyone. It is also where the
 * database layer puts the placeholders of owners without a usable email (`gingr-owner-5@no-email.invalid`),
 * so a Gingr owner whose email was written there could hold another owner's placeholder, and both
 * customers broke UNIQUE ("tenantId", email) with 23505, failing the tenant every hour.
 */
const RESERVED_DOMAIN = /[@.]invalid\.?$/i

/**
 * The owner's email as the customer's, or none (the customer then gets a placeholder): the hourly
 * run's rule and the full sync's.
 */
export function ownerEmail(email: string | null | undefined): string | null {
  // Trimmed again: a NUL dropped by clean() can uncover blanks.
  const address = clean(email)?.trim()
  return address && !RESERVED_DOMAIN.test(address) ? address : null
}

/** address_1 and address_2 as one `address`, for the hourly run and the full sync. */
export function joinAddress(line1: string | null | undefined, line2: string | null | undefined): string | null {
  const parts = [clean(line1), clean(line2)].filter((part): part is string => Boolean(part))
  return parts.length > 0 ? parts.join(', ') : null
}

/**
 * What the sync keeps of one reservation: the rows it stands for. Made as soon as the reservation
 * is validated (GingrClient's `keep`), so that a window's records are never all held at once: these
 * are flat and hold only the fields written.
 */
export interface WindowEntry {
  service: ServiceRow
  customer: CustomerRow
  pet: PetRow
  reservation: ReservationRow
}

export function windowEntry(r: Reservation): WindowEntry {
  const type = r.reservation_type
  const category = serviceCategory(type.type)
  const owner = r.owner
  const animal = r.animal
  return {
    service: { externalId: type.id, name: clean(type.type), category, duration: DURATIONS[category] },
    customer: {
      externalId: owner.id,
      firstName: clean(owner.first_name),
      lastName: clean(owner.last_name),
      email: ownerEmail(owner.email),
      phone: clean(owner.cell_phone),
      address: joinAddress(owner.address_1, owner.address_2),
      city: clean(owner.city),
      state: clean(owner.region),
    },
    pet: {
      externalId: animal.id,
      ownerExternalId: owner.id,
      name: clean(animal.name),
      type: petType(animal.species_id),
      breed: clean(animal.breed),
      notes: clean(r.notes?.animal_notes),
    },
    reservation: {
      externalId: r.reservation_id,
      customerExternalId: owner.id,
      petExternalId: animal.id,
      serviceExternalId: type.id,
      serviceName: clean(type.type),
      startDate: r.start_date,
      endDate: r.end_date,
      status: reservationStatus(r),
      notes: clean(r.notes?.reservation_notes),
      checkInDate: r.check_in_date,
      checkOutDate: r.check_out_date,
      cancelDate: r.cancelled_date,
    },
  }
}

/**
 * A `keep` for GingrClient.fetchReservationWindow: `windowEntry`, with each entry's type, owner and
 * animal rows shared with an earlier entry's when they are equal, field for field (most
 * reservations of a window share them: 50,000 reservations hold about 15,000 owners). Sharing
 * changes no row: collectWindow keeps the first one seen, and a shared row is equal to it.
 */
export function windowEntries(): (r: Reservation) => WindowEntry {
  const services = new Map<string, ServiceRow>()
  const customers = new Map<string, CustomerRow>()
  const pets = new Map<string, PetRow>()
  return (r) => {
    const entry = windowEntry(r)
    const service = shared(services, entry.service)
    const customer = shared(customers, entry.customer)
    const pet = shared(pets, entry.pet)
    // The same values, from the shared rows: the entry's own copies can then go.
    const reservation = entry.reservation
    reservation.serviceExternalId = service.externalId
    reservation.serviceName = service.name
    reservation.customerExternalId = customer.externalId
    reservation.petExternalId = pet.externalId
    return { service, customer, pet, reservation }
  }
}

/** The row seen before under this id when it is equal to `row`, else `row` (remembered if it is the first). */
function shared<Row extends ServiceRow | CustomerRow | PetRow>(seen: Map<string, Row>, row: Row): Row {
  const known = seen.get(row.externalId)
  if (known === undefined) {
    seen.set(row.externalId, row)
    return row
  }
  for (const key of Object.keys(row) as (keyof Row)[]) if (known[key] !== row[key]) return row
  return known
}

/**
 * The rows of a window's entries, in their order. Owners, animals and types repeat across
 * reservations: each is kept once, as first seen.
 */
export function collectWindow(entries: readonly WindowEntry[]): WindowRows {
  const services = new Map<string, ServiceRow>()
  const customers = new Map<string, CustomerRow>()
  const pets = new Map<string, PetRow>()
  const reservations: ReservationRow[] = []
  for (const entry of entries) {
    if (!services.has(entry.service.externalId)) services.set(entry.service.externalId, entry.service)
    if (!customers.has(entry.customer.externalId)) customers.set(entry.customer.externalId, entry.customer)
    if (!pets.has(entry.pet.externalId)) pets.set(entry.pet.externalId, entry.pet)
    reservations.push(entry.reservation)
  }
  return { services: [...services.values()], customers: [...customers.values()], pets: [...pets.values()], reservations }
}

/** Maps a window of validated Gingr reservations to the rows the database layer writes. */
export function mapWindow(reservations: readonly Reservation[]): WindowRows {
  return collectWindow(reservations.map(windowEntry))
}
