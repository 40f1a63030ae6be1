/**
 * The Gingr payloads gingr-sync reads, as valibot schemas. Outputs keep Gingr's field names with
 * normalised values (ids as canonical strings, timestamps as `Date`, `""` as `null`). Unknown
 * fields are dropped, never rejected: Gingr adds fields without notice.
 */
import * as v from 'valibot'
import {
  Email,
  Flag,
  GingrId,
  lenientId,
  lenientInstant,
  lenientNumber,
  lenientText,
  Name,
  objectOrEmpty,
  plainObject,
  readId,
  statusInstant,
  Text,
  timestamp,
} from './fields.ts'
import { MAX_RECORD_BYTES, OversizedRecord } from './json.ts'
import { clip, parseTimestamp } from './timestamp.ts'

/**
 * Every answer is wrapped in this. `data` is an object keyed by id, an array, or `[]` (PHP's empty
 * map); `error` is `false`, `true` (with `message`) or the error text itself.
 */
export const Envelope = plainObject({
  success: v.optional(v.boolean()),
  error: v.optional(v.union([v.string(), v.boolean(), v.null()])),
  message: v.optional(v.nullable(v.string())),
  // Not v.record: it drops the keys `__proto__`, `constructor` and `prototype`, and with them the
  // records Gingr keyed so (a reservation lost, never created). JSON.parse made them own keys.
  data: v.optional(
    v.union([
      v.array(v.unknown()),
      v.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value)),
      v.null(),
    ]),
    null,
  ),
})
export type Envelope = v.InferOutput<typeof Envelope>

/** A reservation type as embedded in a reservation. */
const ReservationTypeRef = v.object({ id: GingrId, type: Name })

/** A row of `/reservation_types`; `status` "1" is active in Gingr's own UI. */
export const ReservationType = v.object({
  ...ReservationTypeRef.entries,
  status: lenientText,
  is_deleted: Flag,
})
export type ReservationType = v.InferOutput<typeof ReservationType>

const ReservationAnimal = v.object({
  id: GingrId,
  name: Name,
  breed: Text,
  species_id: lenientId,
})

const ReservationOwner = v.object({
  id: GingrId,
  first_name: Name,
  last_name: Name,
  email: Email,
  cell_phone: Text,
  address_1: Text,
  address_2: Text,
  city: Text,
  region: Text,
})

/** Absent notes (or PHP's `[]`) are three empty notes, so readers have one shape to handle. */
const Notes = v.pipe(
  objectOrEmpty({ reservation_notes: Text, animal_notes: Text, owner_notes: Text }),
  v.transform((notes) => notes ?? { reservation_notes: null, animal_notes: null, owner_notes: null }),
)

function service(timeZone?: string) {
  return v.object({
    id: lenientId,
    name: lenientText,
    scheduled_at: lenientInstant(timeZone),
    scheduled_until: lenientInstant(timeZone),
    cost: lenientNumber,
  })
}

/**
 * A reservation, its timestamps read in `timeZone` (the facility's IANA zone) when Gingr writes
 * them without an offset; see timestamp.ts for every form. One schema per zone, made once.
 */
export function reservationSchema(timeZone?: string) {
  const key = timeZone ?? ''
  let schema = reservationSchemas.get(key)
  if (schema === undefined) {
    schema = makeReservationSchema(timeZone)
    reservationSchemas.set(key, schema)
  }
  return schema
}

const reservationSchemas = new Map<string, ReturnType<typeof makeReservationSchema>>()

function makeReservationSchema(timeZone?: string) {
  const when = statusInstant(timeZone)
  return v.pipe(
    v.object({
      reservation_id: GingrId,
      standing_reservation: Flag,
      start_date: timestamp(timeZone),
      end_date: timestamp(timeZone),
      created_date: when,
      confirmed_date: when,
      check_in_date: when,
      check_out_date: when,
      cancelled_date: when,
      wait_list_date: when,
      reservation_type: ReservationTypeRef,
      animal: ReservationAnimal,
      owner: ReservationOwner,
      notes: Notes,
      warnings: v.fallback(objectOrEmpty({ medicines: lenientText, allergies: lenientText }), null),
      services: v.fallback(v.array(service(timeZone)), () => []),
      transaction: v.fallback(objectOrEmpty({ pos_transaction_id: lenientId, price: lenientNumber }), null),
      deposit: v.fallback(objectOrEmpty({ amount: lenientNumber }), null),
    }),
    v.transform(({ start_date, end_date, ...rest }) => ({
      ...rest,
      start_date: start_date.instant,
      end_date: end_date.instant,
      start_day: start_date.day,
      end_day: end_date.day,
    })),
  )
}

/** A look-up list's entry (`/get_locations`, `/get_breeds`, `/get_species`): `[{"value", "label"}]`. */
export const Lookup = v.object({
  value: GingrId,
  label: v.pipe(
    v.union([v.string(), v.number()]),
    v.transform((label) => String(label)),
  ),
})
export type Lookup = v.InferOutput<typeof Lookup>

/** Timestamps with their offset only: the form Gingr documents. */
export const Reservation = reservationSchema()
export type Reservation = v.InferOutput<typeof Reservation>

export const Owner = v.object({
  id: GingrId,
  first_name: Name,
  last_name: Name,
  email: Email,
  cell_phone: Text,
  home_phone: lenientText,
  address_1: lenientText,
  address_2: lenientText,
  city: lenientText,
  state: lenientText,
  zip: lenientText,
  emergency_contact_name: lenientText,
  emergency_contact_phone: lenientText,
  notes: lenientText,
})
export type Owner = v.InferOutput<typeof Owner>

/**
 * A birthday, a date without a time: unix seconds (Gingr's form, as a string), or `YYYY-MM-DD`.
 * The day is the facility's (`timeZone`) calendar day of that instant, stored as midnight UTC of
 * that day, so that it never prints a day off in any zone (a bug production once had). Absent,
 * blank, 0 and MySQL's zero date mean "unknown"; anything else unreadable makes the animal invalid,
 * since the birthdate is a column the full sync writes. So does a day outside the years 1900 to 2199,
 * the range every Gingr timestamp is held to (timestamp.ts): "9999-12-31" or year 1 is a
 * placeholder or a typo, never a pet's birthday, and it was stored (or silently dropped) before.
 */
function birthday(timeZone?: string) {
  return v.pipe(
    v.nullish(v.union([v.string(), v.number()]), null),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const value = dataset.value
      if (value === null || UNKNOWN_BIRTHDAY.test(String(value))) return null
      const text = String(value).trim()
      const day = CALENDAR_DAY.test(text) ? text : dayOf(parseTimestamp(text, timeZone ?? 'UTC'))
      const midnight = day === null ? Number.NaN : Date.parse(`${day}T00:00:00Z`)
      const year = new Date(midnight).getUTCFullYear()
      if (day === null || Number.isNaN(midnight) || new Date(midnight).toISOString().slice(0, 10) !== day || year < 1900 || year > 2199) {
        addIssue({
          message: `Invalid birthday: expected unix seconds or YYYY-MM-DD from 1900 to 2199, received ${JSON.stringify(clip(text))}`,
        })
        return NEVER
      }
      return new Date(midnight)
    }),
  )
}

const UNKNOWN_BIRTHDAY = /^\s*(0*|0000-00-00([ T].*)?)\s*$/
const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/

function dayOf(parsed: ReturnType<typeof parseTimestamp>): string | null {
  return typeof parsed === 'string' ? null : parsed.day
}

/**
 * A weight: a number, or a plain decimal as text, perhaps with its unit after it ("45 lbs",
 * as front desks type it). Absent, `null` and blank mean "unknown". Anything else makes the animal
 * invalid, as an unreadable birthday does (both are columns the full sync writes): "1e3", "12,5" or
 * "0x10" were read as 1, 12 and 0 before. So does a weight past MAX_WEIGHT.
 */
const weight = v.pipe(
  v.nullish(v.unknown(), null),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value
    if (value === null || (typeof value === 'string' && !/\S/.test(value))) return null
    const number =
      typeof value === 'number' ? value : typeof value === 'string' && PLAIN_WEIGHT.test(value) ? Number.parseFloat(value) : Number.NaN
    if (Number.isFinite(number) && number >= 0 && number <= MAX_WEIGHT) return number
    const shown = typeof value === 'string' ? JSON.stringify(clip(value)) : typeof value === 'number' ? String(value) : typeof value
    addIssue({ message: `Invalid weight: expected a decimal number from 0 to ${MAX_WEIGHT.toLocaleString('en-US')}, received ${shown}` })
    return NEVER
  }),
)

const PLAIN_WEIGHT = /^\s*\d{1,9}(\.\d{1,9})?\s*(lbs?\.?|pounds?)?\s*$/i

/**
 * A horse, the heaviest animal a boarding facility might list, weighs about 2,000 lb (900 kg): past
 * 10,000 in either unit a weight is a typo or a placeholder ("1e308"), never an animal's.
 */
const MAX_WEIGHT = 10_000

/** An animal of `/animals`, its birthday read as the facility's (`timeZone`) day; one schema per zone. */
export function animalSchema(timeZone?: string) {
  const key = timeZone ?? ''
  let schema = animalSchemas.get(key)
  if (schema === undefined) {
    schema = makeAnimalSchema(timeZone)
    animalSchemas.set(key, schema)
  }
  return schema
}

const animalSchemas = new Map<string, ReturnType<typeof makeAnimalSchema>>()

function makeAnimalSchema(timeZone?: string) {
  return v.object({
    id: GingrId,
    owner_id: GingrId,
    /** The pet's name (Gingr's column name). */
    first_name: Name,
    /** "1" dog, "2" cat, "3" other: the label comes from `/get_species`. */
    species_id: lenientId,
    /** The label comes from `/get_breeds`. */
    breed_id: lenientId,
    color: Text,
    gender: lenientText,
    /** Unix seconds as a string; midnight UTC of the facility's day. */
    birthday: birthday(timeZone),
    weight,
    microchip: Text,
    vet_id: lenientId,
    // Lenient: the full sync only fills Tailtown's empty notes with these, so junk (PHP's `[]`)
    // as nothing costs nothing, while as an invalid record it would cost the pet's other fields.
    medicines: lenientText,
    allergies: lenientText,
    notes: lenientText,
    feeding_notes: lenientText,
    grooming_notes: lenientText,
    /** (sic) Gingr's spelling. */
    temperment: lenientText,
    fixed: Flag,
    vip: Flag,
    banned: Flag,
    image: lenientText,
  })
}

/** Birthdays read in UTC: the facility's zone is `animalSchema(timeZone)`'s. */
export const Animal = animalSchema()
export type Animal = v.InferOutput<typeof Animal>

/** A record that failed validation; the batch goes on without it. */
export interface InvalidRecord {
  /** The record's `reservation_id` when it is readable, even though something else is wrong. */
  reservationId: string | null
  /** `path: message`, e.g. `owner.first_name: Invalid type: Expected (string | number) but received null`. */
  issue: string
}

/**
 * Validates one record at a time: a bad record becomes an `InvalidRecord` and never costs the
 * others. `abortEarly` stops at a record's first issue, which is all a report needs and keeps a
 * 10k-record batch fast.
 */
export function parseRecords<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  data: Envelope['data'],
): { records: v.InferOutput<TSchema>[]; invalid: InvalidRecord[] } {
  return asReservations(collectChecked(valuesOf(data).map((item) => checkRecord(schema, item, 'reservation_id', same))))
}

/** A listed record (owner, animal, look-up entry) that failed validation, by its own id when readable. */
export interface InvalidItem {
  id: string | null
  issue: string
}

/**
 * `parseRecords` for the lists that are not reservations: an invalid record is named by its own
 * id (`idKey`, `id` for owners and animals, `value` for look-ups), so that it can be reported and
 * still counts as listed by Gingr.
 */
export function parseItems<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  data: Envelope['data'],
  idKey = 'id',
): { records: v.InferOutput<TSchema>[]; invalid: InvalidItem[] } {
  return collectChecked(valuesOf(data).map((item) => checkRecord(schema, item, idKey, same)))
}

/** One record validated: what `keep` made of it, or why it is invalid. */
export type Checked<Kept> = { kept: Kept } | { invalid: InvalidItem }

/**
 * The records of an answer read one at a time, as they arrive (GingrClient, json.ts): `each`
 * validates a record and keeps what `keep` makes of it (the record itself is then dropped), `all`
 * collects them from the answer's `data` in its order, as parseItems does.
 */
export function recordReader<const TSchema extends v.GenericSchema, Kept>(
  schema: TSchema,
  idKey: string,
  keep: (record: v.InferOutput<TSchema>) => Kept,
): { each: (record: unknown) => Checked<Kept>; all: (data: Envelope['data']) => { records: Kept[]; invalid: InvalidItem[] } } {
  return {
    each: (record) => checkRecord(schema, record, idKey, keep),
    all: (data) => collectChecked(valuesOf(data) as Checked<Kept>[]),
  }
}

/** A reservations' reader's invalid records named as reservations (`reservationId`). */
export function asReservations<Kept>(read: { records: Kept[]; invalid: InvalidItem[] }): { records: Kept[]; invalid: InvalidRecord[] } {
  return { records: read.records, invalid: read.invalid.map(({ id, issue }) => ({ reservationId: id, issue })) }
}

function checkRecord<const TSchema extends v.GenericSchema, Kept>(
  schema: TSchema,
  item: unknown,
  idKey: string,
  keep: (record: v.InferOutput<TSchema>) => Kept,
): Checked<Kept> {
  if (item instanceof OversizedRecord) {
    const size = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`
    return { invalid: { id: null, issue: `record: ${size(item.bytes)}, more than the ${size(MAX_RECORD_BYTES)} a Gingr record can have` } }
  }
  const result = v.safeParse(schema, item, { abortEarly: true })
  if (result.success) return { kept: keep(result.output) }
  const [issue] = result.issues
  return { invalid: { id: readKey(item, idKey), issue: boundedIssue(`${v.getDotPath(issue) ?? 'record'}: ${issue.message}`) } }
}

/**
 * The longest issue reported. Most messages cut the value they quote (fields.ts), but valibot's own
 * quote the value whole ("Expected Object but received" a string of 1 MB), in every report.
 */
const MAX_ISSUE_LENGTH = 300

function boundedIssue(issue: string): string {
  if (issue.length <= MAX_ISSUE_LENGTH) return issue
  return `${issue.slice(0, MAX_ISSUE_LENGTH)}… (${issue.length.toLocaleString('en-US')} characters)`
}

function collectChecked<Kept>(checked: readonly Checked<Kept>[]): { records: Kept[]; invalid: InvalidItem[] } {
  const records: Kept[] = []
  const invalid: InvalidItem[] = []
  for (const one of checked) {
    if ('kept' in one) records.push(one.kept)
    else invalid.push(one.invalid)
  }
  return { records, invalid }
}

function valuesOf(data: Envelope['data']): unknown[] {
  return data === null ? [] : Array.isArray(data) ? data : Object.values(data)
}

const same = <T>(record: T): T => record

function readKey(item: unknown, key: string): string | null {
  return typeof item === 'object' && item !== null && key in item ? readId((item as Record<string, unknown>)[key]) : null
}
