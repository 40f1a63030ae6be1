/**
 * Gingr documents every timestamp as the facility's wall-clock time with its UTC offset
 * ("2025-11-17T13:00:00-07:00"). Both halves matter: the instant is what gets stored, and the
 * date as written is the facility's own calendar day. Public code that talks to Gingr also meets
 * other forms, all accepted here:
 * - ISO 8601 with an offset or `Z`: the instant it says;
 * - ISO 8601 without an offset, or PHP/MySQL's `YYYY-MM-DD HH:MM[:SS]`: wall time in the
 *   facility's (the tenant's) IANA zone, a DST gap or overlap resolved as wall-time.ts says;
 * - unix seconds, as a number or a numeric string (the animals endpoint): the instant, and the
 *   facility's day of it.
 * Parsing by hand (rather than `new Date`) is deliberate: `Date` silently reads a string without
 * an offset as the *process's* local time, and rolls "2025-02-30" over into March; both shifted
 * stays in production before. It is also fast: a reservation holds eight timestamps, and a window
 * thousands of reservations.
 */
import { dayInZone, instantOfWallTime } from './wall-time.ts'

/** A parsed Gingr timestamp: the UTC instant and the facility-local day it was written on. */
export interface FacilityTimestamp {
  readonly instant: Date
  /** `YYYY-MM-DD` exactly as written in the source string. */
  readonly day: string
}

const DAY_MS = 86_400_000

/**
 * The instants gingr-sync accepts: from 1900-01-01T00:00Z up to, not including, 2200-01-01T00:00Z.
 * PostgreSQL's timestamp goes from 4713 BC to 294276 AD, but the way there is narrower: an instant
 * travels as `toISOString()`, which past 9999 is `+010000-...` (refused: "time zone displacement out
 * of range"), and year 0000 does not exist in PostgreSQL (1 BC comes before 1 AD). Either failed the
 * staging COPY, and with it the tenant, every hour: Gingr's open-ended `9999-12-31T23:59:59-07:00` is
 * year 10000 in UTC. Tailtown's side is narrower still: a stay ending in 9999 is a pet in a kennel
 * every night forever in its overnight counts. No booking, check-in or cancellation of a pet resort
 * is from before 1900 (when many zones were still local mean time: Denver's was -06:59:56 until 1883,
 * an offset Gingr's ±HH:MM cannot write) or after 2199: anything there is a placeholder or a typo,
 * and refused as such.
 */
const EARLIEST_INSTANT = Date.UTC(1900, 0, 1)
const LATEST_INSTANT_EXCLUSIVE = Date.UTC(2200, 0, 1)
const STORED_RANGE = `${new Date(EARLIEST_INSTANT).toISOString().slice(0, 10)} to ${new Date(LATEST_INSTANT_EXCLUSIVE - 1).toISOString().slice(0, 10)} (UTC)`

/** The number written in `length` digits at `at`, or -1 if they are not all digits. */
function digitsAt(text: string, at: number, length: number): number {
  let value = 0
  for (let i = at; i < at + length; i += 1) {
    const digit = text.charCodeAt(i) - 48
    if (!(digit >= 0 && digit <= 9)) return -1
    value = value * 10 + digit
  }
  return value
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/** Unix seconds between 1900 and 2200 have 9 to 10 digits (negative before 1970). */
const UNIX_SECONDS = /^-?\d{1,10}(\.\d{1,9})?$/

/**
 * Parses a Gingr timestamp in any of the forms above; `timeZone` is the facility's, needed for
 * the forms without an offset. Returns the reason as a string when the value is not a valid instant.
 */
export function parseTimestamp(value: string | number, timeZone?: string): FacilityTimestamp | string {
  if (typeof value === 'number' || UNIX_SECONDS.test(value)) return fromUnixSeconds(value, timeZone)
  const text = value
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  const hour = digitsAt(text, 11, 2)
  const minute = digitsAt(text, 14, 2)
  const separator = text[10]
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0) return invalid(text)
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || (separator !== 'T' && separator !== 't' && separator !== ' '))
    return invalid(text)

  let at = 16
  let second = 0
  let ms = 0
  if (text[at] === ':') {
    second = digitsAt(text, at + 1, 2)
    if (second < 0) return invalid(text)
    at += 3
    if (text[at] === '.') {
      at += 1
      const start = at
      while (at < text.length && digitsAt(text, at, 1) >= 0) at += 1
      if (at === start || at - start > 9) return invalid(text)
      ms = digitsAt(`${text.slice(start, start + 3)}00`, 0, 3)
    }
  }

  let offsetMinutes = 0
  const zone = text[at]
  if (zone === undefined) {
    if (timeZone === undefined) return `Invalid timestamp: "${clip(text)}" has no UTC offset, and no time zone was given to read it in`
  } else if (zone === 'Z' || zone === 'z') {
    at += 1
  } else if (zone === '+' || zone === '-') {
    const hours = digitsAt(text, at + 1, 2)
    at += 3
    let minutes = 0
    if (at < text.length) {
      if (text[at] === ':') at += 1
      minutes = digitsAt(text, at, 2)
      at += 2
    }
    if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) return invalid(text)
    offsetMinutes = (zone === '-' ? -1 : 1) * (hours * 60 + minutes)
  }
  if (at !== text.length) return invalid(text)

  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return `Invalid timestamp: "${clip(text)}" is not a real date and time`
  }
  const wallMs = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms
  // No offset written: wall time in the facility's zone (checked above to be given).
  const instant = zone === undefined ? instantOfWallTime(wallMs, timeZone as string) : wallMs - offsetMinutes * 60_000
  return stored(instant, text.slice(0, 10), text)
}

function fromUnixSeconds(value: string | number, timeZone: string | undefined): FacilityTimestamp | string {
  const seconds = Number(value)
  if (!Number.isFinite(seconds)) return invalid(String(value))
  const instant = Math.round(seconds * 1000)
  // The day a unix instant falls on depends on the zone it is read in.
  if (timeZone === undefined) return `Invalid timestamp: unix seconds ${clip(String(value))} need a time zone to have a day`
  return stored(instant, dayInZone(instant, timeZone), String(value))
}

function stored(instant: number, day: string, text: string): FacilityTimestamp | string {
  if (instant < EARLIEST_INSTANT || instant >= LATEST_INSTANT_EXCLUSIVE) return outside(text)
  return { instant: new Date(instant), day }
}

function outside(text: string): string {
  return `Invalid timestamp: "${clip(text)}" is outside ${STORED_RANGE}, the instants gingr-sync stores`
}

function invalid(text: string): string {
  return `Invalid timestamp: expected ISO 8601, "YYYY-MM-DD HH:MM:SS" or unix seconds, received "${clip(text)}"`
}

/** Hostile payloads can hold megabytes in one field: never echo more than a glimpse of it. */
export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
