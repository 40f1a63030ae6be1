/**
 * The /api/v1 endpoints as pure functions of the request parameters and the account. Errors in
 * the parameters answer HTTP 200 with `{"success":false,"error":true,"message":...}`, the
 * "JSON error with HTTP 200" that Gingr is known for.
 */
import type { Account } from './account.ts'
import { BREEDS, SPECIES_LABELS } from './samples.ts'
import { type Answer, errorMessage, isAnswer, jsonAnswer, type Payload } from './serialize.ts'
import type { WireOwner, WireReservation } from './wire.ts'
import { daysBetween, isCalendarDay } from './zone.ts'

export type Params = Record<string, string>
export type Handler = (params: Params, account: Account) => Payload | Answer

/** The documented maximum: 2024-01-01 to 2024-01-31 is allowed, one more day is not. */
export const MAX_RANGE_DAYS = 30

function paramError(message: string): Answer {
  return jsonAnswer(200, errorMessage(message))
}

function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1'
}

function readRange(params: Params): { from: string; to: string } | Answer {
  const from = params.start_date
  const to = params.end_date
  if (!from || !to) return paramError('start_date and end_date are required.')
  if (!isCalendarDay(from) || !isCalendarDay(to)) return paramError('start_date and end_date must be dates written YYYY-MM-DD.')
  if (to < from) return paramError('end_date must not be before start_date.')
  if (daysBetween(from, to) > MAX_RANGE_DAYS) return paramError(`The date range cannot span more than ${MAX_RANGE_DAYS} days.`)
  return { from, to }
}

/** `location_id` absent, "" or "null" is every location; a location the account lacks has nothing. */
function atLocation(records: WireReservation[], params: Params): WireReservation[] {
  const location = params.location_id
  if (location === undefined || location === '' || location === 'null') return records
  return records.filter((record) => record.location_id === location)
}

const reservations: Handler = (params, account) => {
  if (isTrue(params.checked_in)) return { kind: 'reservations', records: account.checkedIn() }
  const range = readRange(params)
  if (isAnswer(range)) return range
  return { kind: 'reservations', records: atLocation(account.matching(range.from, range.to), params) }
}

const recentlyCancelled: Handler = (params, account) => {
  const range = readRange(params)
  if (isAnswer(range)) return range
  return { kind: 'reservations', records: atLocation(account.cancelledBetween(range.from, range.to), params) }
}

/**
 * `/reservations_by_animal` and `/reservations_by_owner` (`id`): every stay of that animal or
 * owner, whatever its dates, but (as Gingr's support pages say) only at the location the API
 * user is logged into: location "1" here.
 */
function reservationsOf(belongs: (record: WireReservation, id: string) => boolean): Handler {
  return (params, account) => {
    const id = params.id
    if (!id) return paramError('id is required.')
    const records = [...account.reservations.values()].filter((record) => belongs(record, id) && record.location_id === API_USER_LOCATION)
    return { kind: 'reservations', records }
  }
}

const API_USER_LOCATION = '1'

const locations: Handler = (_params, account) => ({
  kind: 'rows',
  rows: Array.from({ length: account.locations }, (_, index) => ({ value: String(index + 1), label: `Location ${index + 1}` })),
})

/**
 * `params[column]=value` where-clauses, compared like MySQL's default collation does: case-
 * insensitively, and NULL equals nothing (not even "").
 */
function filtered<T extends object>(rows: readonly T[], params: Params): T[] | Answer {
  const clauses: [string, string][] = []
  for (const [name, value] of Object.entries(params)) {
    const column = /^params\[(\w+)\]$/.exec(name)?.[1]
    if (column !== undefined) clauses.push([column, value.toLowerCase()])
  }
  const columns = rows[0] === undefined ? [] : Object.keys(rows[0])
  const unknown = clauses.find(([column]) => rows.length > 0 && !columns.includes(column))
  if (unknown) return paramError(`Unknown column '${unknown[0]}' in 'where clause'`)
  return rows.filter((row) =>
    clauses.every(([column, value]) => {
      const cell: unknown = (row as Record<string, unknown>)[column]
      return cell !== null && cell !== undefined && String(cell).toLowerCase() === value
    }),
  )
}

function listOf<T extends object>(rows: readonly T[], params: Params): Payload | Answer {
  const found = filtered(rows, params)
  return isAnswer(found) ? found : { kind: 'rows', rows: found }
}

const digits = (text: string | null): string => (text ?? '').replace(/\D/g, '').slice(-10)

/** `/owner`: the first of id, animal_id, reservation_id, phone, email that is given decides. */
function findOwner(params: Params, account: Account): WireOwner | null | Answer {
  const owners = account.owners
  if (params.id) return owners.get(params.id) ?? null
  if (params.animal_id) return owners.get(account.animals.get(params.animal_id)?.owner_id ?? '') ?? null
  if (params.reservation_id) return owners.get(account.reservations.get(params.reservation_id)?.owner.id ?? '') ?? null
  const all = [...owners.values()]
  if (params.phone) {
    const wanted = digits(params.phone)
    return all.find((owner) => wanted !== '' && (digits(owner.cell_phone) === wanted || digits(owner.home_phone) === wanted)) ?? null
  }
  // Owners may share an email: the lowest id wins, the others cannot be found this way.
  if (params.email) return all.find((owner) => owner.email?.toLowerCase() === params.email?.toLowerCase()) ?? null
  return paramError('One of id, animal_id, reservation_id, phone or email is required.')
}

const owner: Handler = (params, account) => {
  const found = findOwner(params, account)
  return found !== null && isAnswer(found) ? found : { kind: 'one', row: found }
}

/** `[{"value": "11", "label": "Labrador Retriever"}, ...]`, as every Gingr look-up answers. */
function lookup(entries: Iterable<[string, string]>): Handler {
  const rows = Object.freeze([...entries].map(([value, label]) => Object.freeze({ value, label })))
  return () => ({ kind: 'rows', rows: [...rows] })
}

/** `/new_modified_owners`: the owners created or changed in the range, with the range rules of /reservations. */
const modifiedOwners: Handler = (params, account) => {
  const range = readRange(params)
  if (isAnswer(range)) return range
  return { kind: 'rows', rows: account.modifiedOwners(range.from, range.to) }
}

const reservationTypes: Handler = (params, account) => {
  const rows = [...account.reservationTypes.values()].filter(
    (type) =>
      (params.id === undefined || params.id === '' || type.id === params.id) &&
      (!isTrue(params.active_only) || (type.status === '1' && type.is_deleted === '0')),
  )
  return { kind: 'rows', rows }
}

export const ROUTES: Readonly<Record<string, { methods: readonly string[]; handle: Handler }>> = {
  '/reservations': { methods: ['POST'], handle: reservations },
  '/recently_cancelled_reservations': { methods: ['POST'], handle: recentlyCancelled },
  '/owners': { methods: ['GET', 'POST'], handle: (params, account) => listOf([...account.owners.values()], params) },
  '/animals': { methods: ['GET', 'POST'], handle: (params, account) => listOf([...account.animals.values()], params) },
  '/owner': { methods: ['GET', 'POST'], handle: owner },
  '/reservation_types': { methods: ['GET', 'POST'], handle: reservationTypes },
  '/reservations_by_animal': { methods: ['POST'], handle: reservationsOf((record, id) => record.animal.id === id) },
  '/reservations_by_owner': { methods: ['POST'], handle: reservationsOf((record, id) => record.owner.id === id) },
  '/get_locations': { methods: ['GET', 'POST'], handle: locations },
  '/get_breeds': { methods: ['GET', 'POST'], handle: lookup([...BREEDS].map(([id, breed]) => [id, breed.name])) },
  '/get_species': { methods: ['GET', 'POST'], handle: lookup(SPECIES_LABELS) },
  '/new_modified_owners': { methods: ['POST'], handle: modifiedOwners },
}
