/**
 * A facility's wall-clock time and the instants it stands for, in an IANA time zone, with Intl
 * alone. Gingr documents its timestamps with the facility's offset, but public code that talks to
 * Gingr also sees them without one (local wall time); reading those needs the tenant's zone, and
 * around a DST change a wall time may not exist or may exist twice.
 */

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
/** Offsets change on a quarter hour of UTC (zones with :30 and :45 offsets included). */
const BUCKET_MS = 15 * MINUTE_MS

const formatters = new Map<string, Intl.DateTimeFormat>()
/** Per zone, per quarter hour of UTC: the offset in ms. Intl costs microseconds a call. */
const offsets = new Map<string, Map<number, number>>()

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

/** The zone's offset from UTC at an instant, in ms (-25,200,000 for Denver in winter). */
export function offsetAt(instantMs: number, timeZone: string): number {
  let zone = offsets.get(timeZone)
  if (zone === undefined) {
    zone = new Map()
    offsets.set(timeZone, zone)
  }
  const bucket = Math.floor(instantMs / BUCKET_MS)
  let offset = zone.get(bucket)
  if (offset === undefined) {
    const at = bucket * BUCKET_MS
    const parts = formatter(timeZone).formatToParts(new Date(at))
    const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value)
    const wall = Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'))
    offset = wall - at
    zone.set(bucket, offset)
  }
  return offset
}

/**
 * The instant a wall-clock time (given as the ms of those same fields in UTC) stands for in the
 * zone. Resolved the way RFC 5545 and JavaScript's Temporal resolve it by default ("compatible"):
 * - a wall time that occurs twice (the hour repeated when clocks go back) is the earlier instant,
 *   the first time the clock showed it;
 * - a wall time that does not exist (the hour skipped when clocks go forward) is read with the
 *   offset from before the change, which lands as far past the gap as it was into it (02:30 on the
 *   night Denver springs forward is 03:30 MDT).
 */
export function instantOfWallTime(wallMs: number, timeZone: string): number {
  // A day either side is clear of any change around this wall time (zones change at most twice a year).
  const before = wallMs - offsetAt(wallMs - DAY_MS, timeZone)
  const after = wallMs - offsetAt(wallMs + DAY_MS, timeZone)
  const fits = (instant: number) => instant + offsetAt(instant, timeZone) === wallMs
  if (fits(before) && fits(after)) return Math.min(before, after)
  if (fits(before)) return before
  if (fits(after)) return after
  return before
}

/** The facility-local calendar day (`YYYY-MM-DD`) of an instant. */
export function dayInZone(instantMs: number, timeZone: string): string {
  return new Date(instantMs + offsetAt(instantMs, timeZone)).toISOString().slice(0, 10)
}
