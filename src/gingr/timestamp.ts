/**
 * Gingr writes every timestamp as the facility's wall-clock time with its UTC offset
 * ("2025-11-17T13:00:00-07:00"). Both halves matter: the instant is what gets stored, and the
 * date as written is the facility's own calendar day. Parsing by hand (rather than `new Date`)
 * is deliberate: `Date` silently accepts a string without an offset as *local* time, and rolls
 * "2025-02-30" over into March; both shifted stays in production before.
 */

/** A parsed Gingr timestamp: the UTC instant and the facility-local day it was written on. */
export interface FacilityTimestamp {
  readonly instant: Date
  /** `YYYY-MM-DD` exactly as written in the source string. */
  readonly day: string
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i

/** Parses one timestamp; returns the reason as a string when it is not a valid instant. */
export function parseTimestamp(text: string): FacilityTimestamp | string {
  const match = TIMESTAMP.exec(text)
  if (!match) {
    return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
      ? `Invalid timestamp: "${clip(text)}" has no UTC offset`
      : `Invalid timestamp: expected ISO 8601 with an offset, received "${clip(text)}"`
  }
  const [, year = '', month = '', day = '', hour = '', minute = '', second = '0', fraction = '', zulu, sign, offsetHours = '0', offsetMinutes = '0'] =
    match
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number]
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3))
  const oh = Number(offsetHours)
  const om = Number(offsetMinutes)
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const wall = new Date(0)
  wall.setUTCFullYear(y, mo - 1, d)
  wall.setUTCHours(h, mi, s, ms)
  const rolledOver = wall.getUTCFullYear() !== y || wall.getUTCMonth() !== mo - 1 || wall.getUTCDate() !== d
  if (rolledOver || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) {
    return `Invalid timestamp: "${clip(text)}" is not a real date and time`
  }
  const offsetMs = zulu ? 0 : (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000
  return { instant: new Date(wall.getTime() - offsetMs), day: text.slice(0, 10) }
}

/** Hostile payloads can hold megabytes in one field: never echo more than a glimpse of it. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
