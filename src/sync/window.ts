import { addDays, type DateRange } from '../gingr/chunks.ts'

/** True when the runtime knows this IANA zone (a tenant row can hold anything). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}

/** The calendar date it is now in `timeZone`, as `YYYY-MM-DD`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

/**
 * The sync window: calendar dates in the business's own time zone, both ends inclusive. "Today" is
 * decided there and not in UTC, or an evening run in Denver would already look at tomorrow.
 */
export function syncWindow(timeZone: string, pastDays: number, futureDays: number, now: Date = new Date()): DateRange {
  const today = todayIn(timeZone, now)
  return { from: addDays(today, -pastDays), to: addDays(today, futureDays) }
}
