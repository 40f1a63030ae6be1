/**
 * The data-shape faults: the answer is a success envelope, but `data` is not what the happy
 * path expects. Clients must accept an array as well as an object keyed by id, numbers where
 * ids are usually strings and the same reservation twice, and must skip records they cannot
 * read instead of failing the whole window.
 */
import type { Fault } from './faults.ts'
import { arrayJson, envelope, type Payload, payloadBody } from './serialize.ts'
import type { WireReservation } from './wire.ts'

/** Ids of invented invalid records: far above anything the generator or the mutations hand out. */
const INVALID_ID_BASE = 99_000_000

type Row = Record<string, unknown>

/** Each breaks one rule of the documented reservation shape. */
const RESERVATION_DEFECTS: readonly ((record: Row) => Row)[] = [
  (record) => ({ ...record, start_date: '0000-00-00 00:00:00' }), // MySQL's zero date
  (record) => ({ ...record, reservation_type: null }),
  ({ animal: _animal, ...record }) => ({ ...record, owner: [] }), // no animal, owner as PHP's empty array
  (record) => ({ ...record, end_date: 'not a date' }),
]

const ROW_DEFECTS: readonly ((row: Row) => unknown)[] = [(row) => ({ ...row, id: null }), (row) => ({ ...row, id: 'n/a' }), () => []]

function defect<T>(defects: readonly T[], index: number): T {
  const chosen = defects[index % defects.length]
  if (chosen === undefined) throw new RangeError('No defects to choose from')
  return chosen
}

/** Copies of the first record (if any), each with one defect and an id of its own. */
function invalidReservations(valid: readonly WireReservation[], count: number): [string, unknown][] {
  const template: Row = { ...valid[0] }
  return Array.from({ length: count }, (_, index) => {
    const id = String(INVALID_ID_BASE + index + 1)
    return [id, defect(RESERVATION_DEFECTS, index)({ ...template, reservation_id: id })]
  })
}

function invalidRows(rows: readonly object[], count: number): unknown[] {
  const template: Row = { ...rows[0] }
  return Array.from({ length: count }, (_, index) => defect(ROW_DEFECTS, index)({ ...template, id: String(INVALID_ID_BASE + index + 1) }))
}

function isIdKey(key: string): boolean {
  return key === 'id' || key.endsWith('_id')
}

function numericIds(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => numericIds(item))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, numericIds(item, name)]))
  }
  return typeof value === 'string' && isIdKey(key) && /^\d+$/.test(value) ? Number(value) : value
}

function everyThird<T>(items: readonly T[]): T[] {
  return items.filter((_, index) => index % 3 === 0)
}

function records(payload: Payload): object[] {
  switch (payload.kind) {
    case 'reservations':
      return payload.records
    case 'rows':
      return payload.rows
    case 'one':
      return payload.row === null ? [] : [payload.row]
  }
}

/** A keyed `data` object from [id, value] pairs; `[]` when there are none, as PHP writes it. */
function keyedParts(entries: readonly [string, unknown][]): string {
  if (entries.length === 0) return '[]'
  return `{${entries.map(([id, row]) => `${JSON.stringify(id)}:${JSON.stringify(row)}`).join(',')}}`
}

/** The full answer body for a data-shape fault; other faults leave the payload alone. */
export function distortedBody(payload: Payload, fault: Fault): string | Uint8Array {
  // /owner answers one object: there is no list to reshape, only ids to turn into numbers.
  if (payload.kind === 'one' && fault.kind !== 'numeric-ids') return payloadBody(payload)
  switch (fault.kind) {
    case 'array-data':
      return envelope(arrayJson(records(payload)))
    case 'duplicate-ids': {
      const all = records(payload)
      return envelope(arrayJson([...all, ...everyThird(all)]))
    }
    case 'invalid-records': {
      const count = fault.count ?? 2
      if (payload.kind === 'reservations') {
        const valid = payload.records.map((record): [string, unknown] => [record.reservation_id, record])
        return envelope(keyedParts([...valid, ...invalidReservations(payload.records, count)]))
      }
      const rows = records(payload)
      return envelope(JSON.stringify([...rows, ...invalidRows(rows, count)]))
    }
    case 'numeric-ids': {
      if (payload.kind === 'one') return envelope(JSON.stringify(numericIds(payload.row ?? [])))
      if (payload.kind === 'rows') return envelope(JSON.stringify(numericIds(payload.rows)))
      return envelope(keyedParts(payload.records.map((record) => [record.reservation_id, numericIds(record)])))
    }
    case 'timestamp-form':
      if (payload.kind !== 'reservations') return payloadBody(payload)
      return envelope(keyedParts(payload.records.map((record) => [record.reservation_id, reformTimestamps(record, fault.form)])))
    default:
      return payloadBody(payload)
  }
}

type TimestampForm = Extract<Fault, { kind: 'timestamp-form' }>['form']

const TIMESTAMP_FIELDS = [
  'start_date',
  'end_date',
  'created_date',
  'confirmed_date',
  'check_in_date',
  'check_out_date',
  'cancelled_date',
  'wait_list_date',
] as const

function reformTimestamps(record: WireReservation, form: TimestampForm): Row {
  const out: Row = { ...record }
  for (const field of TIMESTAMP_FIELDS) {
    const value = record[field]
    if (value) out[field] = reformed(value, form)
  }
  out.services = record.services.map((service) => ({
    ...service,
    scheduled_at: service.scheduled_at && reformed(service.scheduled_at, form),
    scheduled_until: service.scheduled_until && reformed(service.scheduled_until, form),
  }))
  return out
}

/** `2025-11-17T13:00:00-07:00` (the wire's form: wall time and its offset) in another form. */
function reformed(text: string, form: TimestampForm): string | number {
  const wall = text.slice(0, 19)
  const seconds = Math.round(Date.parse(text) / 1000)
  switch (form) {
    case 'utc':
      return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`
    case 'local':
      return wall
    case 'mysql':
      return wall.replace('T', ' ')
    case 'unix':
      return seconds
    case 'unix-string':
      return String(seconds)
  }
}
