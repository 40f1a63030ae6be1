/**
 * Field-level schemas shared by the record schemas. Two temperaments:
 * - strict ones (ids, timestamps, names, text the sync copies): a wrong value makes the whole
 *   record invalid, because writing it would put wrong data in front of staff;
 * - lenient ones (`lenient*`): fields the sync does not read; junk becomes `null`/`false`
 *   instead of costing a reservation.
 * Absent keys: valibot reports a missing key unless the schema is optional with a default or has
 * a fallback, so every "may be absent" field below carries one.
 */
import * as v from 'valibot'
import { clip, parseTimestamp } from './timestamp.ts'

const CANONICAL_ID = /^\d+$/

/**
 * The most digits a Gingr id can have: 20, MySQL's BIGINT UNSIGNED (18446744073709551615), the
 * widest key Gingr's database can hand out. A longer "id" is no Gingr id, and the database could
 * not take it anyway: every id becomes an indexed `"externalId"`, and a btree index row holds at
 * most 2,704 bytes (a 10,000-digit id failed the whole tenant with 54000, every hour).
 */
const MAX_ID_DIGITS = 20

/**
 * Gingr ids are numeric strings, yet some payloads carry JSON numbers. Both come out as one
 * canonical string ("0812", "812" and 812 name the same record), so de-duplication and joins
 * cannot be fooled by the spelling. `null` when the value is no Gingr id (see MAX_ID_DIGITS).
 */
export function readId(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : null
  }
  if (typeof value === 'string' && CANONICAL_ID.test(value)) {
    const id = value.replace(/^0+(?=\d)/, '')
    return id.length <= MAX_ID_DIGITS ? id : null
  }
  return null
}

export const GingrId = v.pipe(
  v.union([v.string(), v.number()]),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const id = readId(dataset.value)
    if (id === null) {
      addIssue({ message: `Invalid id: expected a whole number of at most ${MAX_ID_DIGITS} digits, received ${shown(dataset.value)}` })
      return NEVER
    }
    return id
  }),
)

/** A value as an issue shows it: a long string as a glimpse and its length. */
function shown(value: string | number): string {
  if (typeof value === 'number' || value.length <= 40) return JSON.stringify(value)
  return `"${clip(value)}" (${value.length.toLocaleString('en-US')} characters)`
}

/** A name the database stores NOT NULL: required, but an empty string is a name Gingr allows. */
export const Name = v.pipe(
  v.union([v.string(), v.number()]),
  v.transform((value) => String(value)),
)

const NOT_BLANK = /\S/

function textOrNull(value: string | number): string | null {
  if (typeof value === 'number') return String(value)
  // A regex test, not `trim()`: notes run to 30 KB and trim would copy each one.
  return NOT_BLANK.test(value) ? value : null
}

/** Optional text: absent, `null`, `""` and blanks all mean "none"; numbers (phones!) become text. */
export const Text = v.nullish(v.pipe(v.union([v.string(), v.number()]), v.transform(textOrNull)), null)

export const lenientText = v.fallback(Text, null)

/**
 * RFC 5321 (4.5.3.1.3) caps a path at 256 octets with its angle brackets: an address has at most
 * 254. A longer one reaches no one, and the database could not take it anyway: UNIQUE ("tenantId",
 * email) is a btree, whose rows hold at most 2,704 bytes (a 6,000-character email failed the whole
 * tenant with 54000, every hour). Counted in characters, which 254 × 4 bytes of UTF-8 still fits.
 */
const MAX_EMAIL_LENGTH = 254

/** An email: optional text without its surrounding blanks (a pasted address often has some). */
export const Email = v.pipe(
  Text,
  v.transform((value) => value?.trim() ?? null),
  v.check(
    (value) => value === null || value.length <= MAX_EMAIL_LENGTH,
    (issue) =>
      `Invalid email: ${String(issue.input).length.toLocaleString('en-US')} characters, more than the ${MAX_EMAIL_LENGTH} an address can have`,
  ),
)

/**
 * A timestamp in any form timestamp.ts reads → the instant and the facility-local day. `timeZone`
 * (the facility's IANA zone) reads the forms without an offset; without it they are invalid.
 */
export function timestamp(timeZone?: string) {
  return v.pipe(
    v.union([v.string(), v.number()]),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const parsed = parseTimestamp(dataset.value, timeZone)
      if (typeof parsed === 'string') {
        addIssue({ message: parsed })
        return NEVER
      }
      return parsed
    }),
  )
}

/**
 * A status timestamp (confirmed, checked in, ...): the key must be there, because an absent
 * `cancelled_date` would silently turn a cancelled stay into a confirmed one; `null` or `""` = not yet.
 */
export function statusInstant(timeZone?: string) {
  return v.pipe(
    v.nullable(v.union([v.string(), v.number()])),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      if (dataset.value === null || (typeof dataset.value === 'string' && !NOT_BLANK.test(dataset.value))) return null
      const parsed = parseTimestamp(dataset.value, timeZone)
      if (typeof parsed === 'string') {
        addIssue({ message: parsed })
        return NEVER
      }
      return parsed.instant
    }),
  )
}

/** A timestamp nothing depends on (a service's schedule): unreadable is null, never an invalid record. */
export function lenientInstant(timeZone?: string) {
  return v.fallback(
    v.pipe(
      v.unknown(),
      v.transform((value) => {
        const parsed = typeof value === 'string' || typeof value === 'number' ? parseTimestamp(value, timeZone) : null
        return parsed !== null && typeof parsed !== 'string' ? parsed.instant : null
      }),
    ),
    null,
  )
}

/** Gingr's PHP backend writes booleans as "1"/"0", sometimes as JSON booleans or numbers. */
export const Flag = v.optional(
  v.pipe(
    v.unknown(),
    v.transform((value) => value === true || value === 1 || value === '1' || value === 'true'),
  ),
  false,
)

/** Prices and amounts: a number or a numeric string; anything else is unknown (`null`). */
export const lenientNumber = v.fallback(
  v.pipe(
    v.unknown(),
    v.transform((value) => {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      return typeof number === 'number' && Number.isFinite(number) ? number : null
    }),
  ),
  null,
)

export const lenientId = v.fallback(v.nullish(GingrId, null), null)

/**
 * `v.object` takes any object, arrays included: this one refuses arrays, so that `["a"]` is not
 * read as an object whose every field is absent.
 */
export function plainObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
      (issue) => `Invalid type: Expected Object but received ${issue.received}`,
    ),
    v.object(entries),
  )
}

/**
 * PHP encodes an empty associative array as `[]`, so an object field with nothing in it arrives
 * as `[]` (transaction, deposit, notes): that, `null` and absence all become `null`.
 */
export function objectOrEmpty<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.nullish(
    v.pipe(
      v.unknown(),
      v.transform((value) => (Array.isArray(value) && value.length === 0 ? null : value)),
      v.nullable(plainObject(entries)),
    ),
    null,
  )
}
