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

/** The owner's email as the customer's, or none (the customer then gets a placeholder). */
function ownerEmail(email: string | null | undefined): string | null {
  // Trimmed again: a NUL dropped by clean() can uncover blanks.
  const address = clean(email)?.trim()
  return address && !RESERVED_DOMAIN.test(address) ? address : null
}

function joinAddress(line1: string | null | undefined, line2: string | null | undefined): string | null {
  const parts = [clean(line1), clean(line2)].filter((part): part is string => Boolean(part))
  return parts.length > 0 ? parts.join(', ') : null
}

/**
 * Maps a window of validated Gingr reservations to the rows the database layer writes. Owners,
 * animals and types repeat across reservations: each is kept once, as first seen.
 */
export function mapWindow(reservations: readonly Reservation[]): WindowRows {
  const services = new Map<string, ServiceRow>()
  const customers = new Map<string, CustomerRow>()
  const pets = new Map<string, PetRow>()
  const rows: ReservationRow[] = []

  for (const r of reservations) {
    const type = r.reservation_type
    if (!services.has(type.id)) {
      const category = serviceCategory(type.type)
      services.set(type.id, { externalId: type.id, name: clean(type.type), category, duration: DURATIONS[category] })
    }
    const owner = r.owner
    if (!customers.has(owner.id)) {
      customers.set(owner.id, {
        externalId: owner.id,
        firstName: clean(owner.first_name),
        lastName: clean(owner.last_name),
        email: ownerEmail(owner.email),
        phone: clean(owner.cell_phone),
        address: joinAddress(owner.address_1, owner.address_2),
        city: clean(owner.city),
        state: clean(owner.region),
      })
    }
    const animal = r.animal
    if (!pets.has(animal.id)) {
      pets.set(animal.id, {
        externalId: animal.id,
        ownerExternalId: owner.id,
        name: clean(animal.name),
        type: petType(animal.species_id),
        breed: clean(animal.breed),
        notes: clean(r.notes?.animal_notes),
      })
    }
    rows.push({
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
    })
  }
  return { services: [...services.values()], customers: [...customers.values()], pets: [...pets.values()], reservations: rows }
}
