/**
 * Calendar days and wall-clock time in the facility's IANA time zone, with Intl alone (no tz
 * dependency). Gingr speaks local wall-clock time with the offset of that instant, so every
 * conversion here is per instant: a stay that crosses a DST change has two different offsets.
 */

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
/**
 * Intl costs microseconds per call, which 50,000 generated reservations with a dozen timestamps
 * each cannot afford, so offsets are cached per UTC day: one Intl call at each end of the day,
 * and quarter-hour buckets only for a day whose offset changes. Every offset change of the last
 * decades falls on a quarter hour of UTC (zones with :30 and :45 offsets included).
 */
const BUCKET_MS = 15 * MINUTE_MS

const formatters = new Map<string, Intl.DateTimeFormat>()
/** Per zone, per UTC day: the day's offset, or per-bucket offsets for a day with a change. */
const offsetCache = new Map<string, Map<number, number | Map<number, number>>>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, format)
  }
  return format
}

/** Throws a RangeError that names the zone when Intl does not know it. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone)
  } catch {
    throw new RangeError(`Unknown IANA time zone: ${timeZone}`)
  }
}

function computeOffset(ms: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms))
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((part) => part.type === type)?.value)
  const wall = Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'))
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / MINUTE_MS)
}

/** The zone's UTC offset in minutes at that instant (-420 for Denver in winter). */
export function offsetMinutes(ms: number, timeZone: string): number {
  let zone = offsetCache.get(timeZone)
  if (zone === undefined) {
    zone = new Map()
    offsetCache.set(timeZone, zone)
  }
  const day = Math.floor(ms / DAY_MS)
  let entry = zone.get(day)
  if (entry === undefined) {
    const first = computeOffset(day * DAY_MS, timeZone)
    entry = first === computeOffset((day + 1) * DAY_MS - BUCKET_MS, timeZone) ? first : new Map()
    zone.set(day, entry)
  }
  if (typeof entry === 'number') return entry
  const bucket = Math.floor(ms / BUCKET_MS)
  let offset = entry.get(bucket)
  if (offset === undefined) {
    offset = computeOffset(bucket * BUCKET_MS, timeZone)
    entry.set(bucket, offset)
  }
  return offset
}

const offsetTexts = new Map<number, string>()

function formatOffset(minutes: number): string {
  let text = offsetTexts.get(minutes)
  if (text === undefined) {
    const abs = Math.abs(minutes)
    text = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
    offsetTexts.set(minutes, text)
  }
  return text
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'))
const dayTexts = new Map<number, string>()

/** `YYYY-MM-DD` of a day number (days since 1970-01-01), cached: stays cluster on few days. */
function dayText(dayNumber: number): string {
  let text = dayTexts.get(dayNumber)
  if (text === undefined) {
    text = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10)
    dayTexts.set(dayNumber, text)
  }
  return text
}

/** `2025-11-17T13:00:00-07:00`: local wall clock to the second, with the offset of that instant. */
export function formatInZone(ms: number, timeZone: string): string {
  const offset = offsetMinutes(ms, timeZone)
  const wallSeconds = Math.floor(ms / 1000) + offset * 60
  const dayNumber = Math.floor(wallSeconds / 86_400)
  const second = wallSeconds - dayNumber * 86_400
  const time = `${TWO_DIGITS[Math.floor(second / 3600)]}:${TWO_DIGITS[Math.floor(second / 60) % 60]}:${TWO_DIGITS[second % 60]}`
  return `${dayText(dayNumber)}T${time}${formatOffset(offset)}`
}

/** The facility-local calendar day (`YYYY-MM-DD`) of an instant. */
export function dayInZone(ms: number, timeZone: string): string {
  return dayText(Math.floor((ms + offsetMinutes(ms, timeZone) * MINUTE_MS) / DAY_MS))
}

/** Midnight UTC of a `YYYY-MM-DD` day, without Date.parse (hot in generation). */
function dayToUtcMs(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)))
}

/** True for a real calendar day written `YYYY-MM-DD` (2025-02-30 is not one). */
export function isCalendarDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false
  const ms = dayToUtcMs(text)
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text
}

export function addDays(day: string, days: number): string {
  return dayText(Math.round(dayToUtcMs(day) / DAY_MS) + days)
}

/** Whole calendar days from `from` to `to` (2024-01-01 → 2024-01-31 is 30). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayToUtcMs(to) - dayToUtcMs(from)) / DAY_MS)
}

/**
 * The instant of a local wall-clock time, disambiguated like Temporal's 'compatible': a time
 * repeated by a fall-back change is its earlier instant, a time skipped by a spring-forward change
 * is pushed forward by the gap (so a day that starts at 01:00, as in Santiago, starts at 01:00).
 */
export function localInstant(day: string, minuteOfDay: number, timeZone: string): number {
  const wall = dayToUtcMs(day) + minuteOfDay * MINUTE_MS
  const before = offsetMinutes(wall - DAY_MS, timeZone)
  const after = offsetMinutes(wall + DAY_MS, timeZone)
  const early = wall - before * MINUTE_MS
  if (before === after || offsetMinutes(early, timeZone) === before) return early
  const late = wall - after * MINUTE_MS
  if (offsetMinutes(late, timeZone) === after) return late
  return early
}

/** Today's calendar day in the zone. */
export function todayInZone(timeZone: string, now: number = Date.now()): string {
  return dayInZone(now, timeZone)
}
