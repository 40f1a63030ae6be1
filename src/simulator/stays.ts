/**
 * Generated reservations: spread from today-20 to today+45, shaped like a resort's book.
 * Overnight boarding drops off 7-10am and picks up 11am-5pm local; day camp, grooming and the
 * 6pm puppy class start and end on one local day (the class ends after midnight UTC, which
 * catches a client that takes the calendar date from UTC). Status is never a field: it follows
 * from the dates, as seen at noon (facility time) of `today`, so generation is deterministic.
 */
import { Random } from './random.ts'
import { reservationRecord, type StatusStamps } from './records.ts'
import { longNote, NOTES, RESERVATION_TYPES, SERVICES, SPECIES, type StayKind } from './samples.ts'
import type { WireAnimal, WireOwner, WireReservation, WireReservationType, WireService } from './wire.ts'
import { addDays, formatInZone, localInstant } from './zone.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const FIRST_RESERVATION_ID = 6904
const FIRST_SERVICE_ID = 50_001

type Status = 'pending' | 'wait-listed' | 'confirmed' | 'checked-in' | 'checked-out' | 'cancelled' | 'no-show' | 'overdue'
type GeneratedType = (typeof RESERVATION_TYPES)[number]

/** The first reservations are fixed so that every status shows even in a tiny account. */
const PLANTED: readonly { typeId: string; day: number; nights?: number; status: Status }[] = [
  { typeId: '3', day: -2, nights: 4, status: 'checked-in' },
  { typeId: '2', day: -10, nights: 3, status: 'checked-out' },
  { typeId: '4', day: 0, status: 'checked-in' },
  { typeId: '3', day: 5, nights: 2, status: 'cancelled' },
  { typeId: '2', day: 8, nights: 3, status: 'pending' },
  { typeId: '3', day: 12, nights: 5, status: 'wait-listed' },
  { typeId: '6', day: -5, status: 'no-show' },
  { typeId: '8', day: 3, status: 'confirmed' },
  { typeId: '2', day: -3, nights: 1, status: 'overdue' },
]

/** Reservation type id → weight, per species; dogs get the inactive and the deleted types too. */
const DOG_TYPES = { '2': 15, '3': 20, '9': 5, '4': 20, '5': 10, '10': 5, '6': 8, '7': 7, '8': 10 }
const TYPE_WEIGHTS = new Map<string, Readonly<Record<string, number>>>([
  [SPECIES.dog, DOG_TYPES],
  [SPECIES.cat, { '1': 75, '6': 25 }],
  [SPECIES.other, { '2': 70, '6': 30 }],
])

const STATUS_WEIGHTS = {
  past: { 'checked-out': 80, cancelled: 9, 'no-show': 5, pending: 3, overdue: 3 },
  current: { 'checked-in': 85, confirmed: 10, cancelled: 5 },
  future: { confirmed: 68, pending: 12, 'wait-listed': 6, cancelled: 14 },
} as const satisfies Record<string, Partial<Record<Status, number>>>

const NOTE_KINDS = { none: 35, empty: 10, text: 55 }

interface Context {
  rng: Random
  timeZone: string
  today: string
  now: number
  nextServiceId: number
}

function typeById(id: string): GeneratedType {
  const type = RESERVATION_TYPES.find((candidate) => candidate.id === id)
  if (type === undefined) throw new RangeError(`No reservation type ${id}`)
  return type
}

function quarterHours(ctx: Context, fromHour: number, toHour: number): number {
  return ctx.rng.int(fromHour * 4, toHour * 4) * 15
}

function stayTimes(ctx: Context, type: GeneratedType, day: string, nights: number | undefined): { start: number; end: number } {
  const at = (d: string, minute: number): number => localInstant(d, minute, ctx.timeZone)
  switch (type.kind) {
    case 'boarding': {
      // Most stays are short; a few run two weeks.
      const length = nights ?? 1 + Math.floor(ctx.rng.next() ** 2 * 14)
      return { start: at(day, quarterHours(ctx, 7, 10)), end: at(addDays(day, length), quarterHours(ctx, 11, 17)) }
    }
    case 'daycamp':
      return type.id === '5'
        ? { start: at(day, quarterHours(ctx, 7, 8)), end: at(day, quarterHours(ctx, 12, 13)) }
        : { start: at(day, quarterHours(ctx, 7, 9)), end: at(day, quarterHours(ctx, 16, 18)) }
    case 'grooming': {
      const start = ctx.rng.int(18, 30) * 30
      return { start: at(day, start), end: at(day, start + ctx.rng.int(2, 6) * 30) }
    }
    case 'training':
      return { start: at(day, 18 * 60), end: at(day, 19 * 60) }
  }
}

function between(ctx: Context, from: number, to: number): number {
  return to <= from ? from : from + Math.floor((ctx.rng.next() * (to - from)) / 1000) * 1000
}

function stamps(ctx: Context, status: Status, start: number, end: number): StatusStamps {
  const { rng, now } = ctx
  const limit = Math.min(now, start)
  const created = Math.min(start - rng.int(2 * 60, 60 * 24 * 60) * MINUTE, now - rng.int(5, 3 * 24 * 60) * MINUTE) - rng.int(0, 59) * 1000
  const confirmed = between(ctx, created, Math.min(created + 2 * DAY, limit))
  const checkedIn = Math.max(confirmed + MINUTE, Math.min(start + rng.int(-20, 40) * MINUTE, now - MINUTE))
  const checkedOut = Math.max(checkedIn + MINUTE, Math.min(end + rng.int(-45, 30) * MINUTE, now - MINUTE))
  const none: StatusStamps = { created, confirmed: null, checkedIn: null, checkedOut: null, cancelled: null, waitListed: null }
  switch (status) {
    case 'pending':
      return none
    case 'wait-listed':
      return { ...none, waitListed: created }
    case 'confirmed':
    case 'no-show':
      return { ...none, confirmed }
    case 'checked-in':
    case 'overdue':
      return { ...none, confirmed, checkedIn }
    case 'checked-out':
      return { ...none, confirmed, checkedIn, checkedOut }
    case 'cancelled': {
      const cancelled = between(ctx, created + MINUTE, limit)
      return { ...none, confirmed: rng.chance(0.7) ? Math.min(confirmed, cancelled - 1000) : null, cancelled }
    }
  }
}

/** Extras are scheduled in daytime on one day of the stay (the start time for same-day visits). */
function services(ctx: Context, kind: StayKind, day: string, start: number, end: number): WireService[] {
  const chance = { boarding: 0.4, daycamp: 0.15, grooming: 0.5, training: 0 }[kind]
  if (!ctx.rng.chance(chance)) return []
  const nights = Math.max(0, Math.round((end - start) / DAY))
  const count = kind === 'boarding' ? ctx.rng.int(1, 3) : 1
  return Array.from({ length: count }, () => {
    const service = ctx.rng.pick(SERVICES)
    const daytime = localInstant(addDays(day, ctx.rng.int(0, nights)), quarterHours(ctx, 9, 16), ctx.timeZone)
    const at = kind === 'boarding' ? Math.min(Math.max(daytime, start), end) : start
    return {
      id: String(ctx.nextServiceId++),
      name: service.name,
      scheduled_at: ctx.rng.chance(0.9) ? formatInZone(at, ctx.timeZone) : null,
      scheduled_until: ctx.rng.chance(0.8) ? formatInZone(at + service.minutes * MINUTE, ctx.timeZone) : null,
      cost: service.cost,
      quantity: '1',
    }
  })
}

function price(kind: StayKind, start: number, end: number, extras: readonly WireService[]): number {
  const base = { boarding: 55 * Math.max(1, Math.round((end - start) / DAY)), daycamp: 38, grooming: 65, training: 25 }[kind]
  return Math.round((base + extras.reduce((sum, service) => sum + service.cost, 0)) * 100) / 100
}

function relation(ctx: Context, start: number, end: number): keyof typeof STATUS_WEIGHTS {
  return end <= ctx.now ? 'past' : start <= ctx.now ? 'current' : 'future'
}

function pickAnimal(ctx: Context, animals: readonly WireAnimal[], species: string | null): WireAnimal {
  // Skewed towards the first animals: regulars book far more often than the rest.
  const candidates = species === null ? animals : animals.filter((animal) => animal.species_id === species)
  const pool = candidates.length > 0 ? candidates : animals
  const animal = pool[Math.floor(ctx.rng.next() ** 1.6 * pool.length)]
  if (animal === undefined) throw new RangeError('Reservations need at least one animal')
  return animal
}

function reservationNotes(ctx: Context, index: number): string | null {
  if (index % 97 === 7) return longNote(index)
  const kind = ctx.rng.weighted(NOTE_KINDS)
  return kind === 'none' ? null : kind === 'empty' ? '' : ctx.rng.pick(NOTES)
}

export interface StayInputs {
  seed: number
  count: number
  timeZone: string
  today: string
  owners: ReadonlyMap<string, WireOwner>
  animals: ReadonlyMap<string, WireAnimal>
}

export function generateReservations(inputs: StayInputs): Map<string, WireReservation> {
  const ctx: Context = {
    rng: new Random(inputs.seed, 'reservations'),
    timeZone: inputs.timeZone,
    today: inputs.today,
    now: localInstant(inputs.today, 12 * 60, inputs.timeZone),
    nextServiceId: FIRST_SERVICE_ID,
  }
  const animals = [...inputs.animals.values()]
  const reservations = new Map<string, WireReservation>()
  let id = FIRST_RESERVATION_ID
  for (let index = 0; index < inputs.count; index++) {
    const planted = PLANTED[index]
    const animal = pickAnimal(ctx, animals, planted ? SPECIES.dog : null)
    const typeId = planted?.typeId ?? ctx.rng.weighted(TYPE_WEIGHTS.get(animal.species_id) ?? DOG_TYPES)
    const type = typeById(typeId)
    const day = addDays(ctx.today, planted?.day ?? ctx.rng.int(-20, 45))
    const { start, end } = stayTimes(ctx, type, day, planted?.nights)
    const status = planted?.status ?? ctx.rng.weighted<Status>(STATUS_WEIGHTS[relation(ctx, start, end)])
    const owner = inputs.owners.get(animal.owner_id)
    if (owner === undefined) throw new RangeError(`Animal ${animal.id} has no owner`)
    reservations.set(String(id), buildStay(ctx, { id: String(id), index, type, animal, owner, day, start, end, status }))
    id += ctx.rng.int(1, 4)
  }
  return reservations
}

interface Stay {
  id: string
  index: number
  type: WireReservationType & { kind: StayKind }
  animal: WireAnimal
  owner: WireOwner
  day: string
  start: number
  end: number
  status: Status
}

function buildStay(ctx: Context, stay: Stay): WireReservation {
  const { rng } = ctx
  const extras = services(ctx, stay.type.kind, stay.day, stay.start, stay.end)
  const paid = stay.status === 'checked-out' || (stay.status === 'checked-in' && rng.chance(0.2))
  const depositAllowed = stay.type.kind === 'boarding' && ['confirmed', 'checked-in', 'pending'].includes(stay.status)
  return reservationRecord(
    {
      id: stay.id,
      start: stay.start,
      end: stay.end,
      stamps: stamps(ctx, stay.status, stay.start, stay.end),
      type: stay.type,
      animal: stay.animal,
      owner: stay.owner,
      reservationNotes: reservationNotes(ctx, stay.index),
      services: extras,
      transaction: paid
        ? { pos_transaction_id: String(90_000 + stay.index), price: price(stay.type.kind, stay.start, stay.end, extras) }
        : [],
      deposit: depositAllowed && rng.chance(0.4) ? { amount: rng.pick([25, 50, 100]) } : [],
      standing: (stay.type.kind === 'daycamp' && rng.chance(0.3)) || (stay.type.kind === 'grooming' && rng.chance(0.1)),
      source: rng.pick(['Customer Portal', 'Front Desk', 'Mobile App']),
      customFields: rng.chance(0.15) ? { kennel_preference: rng.pick(['Near the window', 'Quiet wing', 'Next to her sister']) } : [],
    },
    ctx.timeZone,
  )
}
