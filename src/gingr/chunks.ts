/**
 * Calendar-date arithmetic for Gingr's date ranges. Dates are plain `YYYY-MM-DD` strings with no
 * time zone: computing on UTC midnights means no DST change can make a day 23 or 25 hours long
 * and shift a chunk edge by one day.
 */

/** Inclusive range of calendar dates, as Gingr's `start_date`/`end_date` form fields take them. */
export interface DateRange {
  from: string
  to: string
}

const DAY_MS = 86_400_000
const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** The UTC midnight of a calendar date, or `null` for anything that is not a real date. */
function dayNumber(day: string): number | null {
  const match = CALENDAR_DATE.exec(day)
  if (!match) return null
  const [, year = '', month = '', date = ''] = match
  const midnight = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  midnight.setUTCFullYear(Number(year), Number(month) - 1, Number(date))
  return midnight.getUTCFullYear() === Number(year) &&
    midnight.getUTCMonth() === Number(month) - 1 &&
    midnight.getUTCDate() === Number(date)
    ? midnight.getTime() / DAY_MS
    : null
}

function requireDay(day: string): number {
  const number = dayNumber(day)
  if (number === null) throw new RangeError(`"${day}" is not a calendar date (YYYY-MM-DD)`)
  return number
}

function formatDay(number: number): string {
  return new Date(number * DAY_MS).toISOString().slice(0, 10)
}

/** True for a real `YYYY-MM-DD` date: "2027-02-29" and "2025-13-01" are not. */
export function isCalendarDate(day: string): boolean {
  return dayNumber(day) !== null
}

/** `day` moved by `days` (may be negative). */
export function addDays(day: string, days: number): string {
  return formatDay(requireDay(day) + days)
}

/** Whole days from `from` to `to`: 0 for the same day, negative when `to` comes first. */
export function daysBetween(from: string, to: string): number {
  return requireDay(to) - requireDay(from)
}

/**
 * Splits an inclusive range into consecutive chunks of at most `maxDays` days each, with no gap
 * and no overlap: Gingr refuses ranges over 30 days, and an overlap would only fetch twice.
 */
export function splitIntoChunks(range: DateRange, maxDays = 30): DateRange[] {
  if (!Number.isInteger(maxDays) || maxDays < 1) throw new RangeError(`maxDays must be a positive integer, got ${maxDays}`)
  const first = requireDay(range.from)
  const last = requireDay(range.to)
  if (last < first) throw new RangeError(`the range ${range.from}..${range.to} ends before it starts`)
  const chunks: DateRange[] = []
  for (let start = first; start <= last; start += maxDays) {
    chunks.push({ from: formatDay(start), to: formatDay(Math.min(start + maxDays - 1, last)) })
  }
  return chunks
}
