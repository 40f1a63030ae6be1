import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { addDays, type DateRange, daysBetween, isCalendarDate, splitIntoChunks } from '../src/gingr/chunks.ts'

/** Every property a chunking must have, checked day by day rather than trusted. */
function expectExactCover(range: DateRange, chunks: DateRange[], maxDays: number): void {
  expect(chunks[0]?.from).toBe(range.from)
  expect(chunks.at(-1)?.to).toBe(range.to)
  for (const [index, chunk] of chunks.entries()) {
    expect(isCalendarDate(chunk.from) && isCalendarDate(chunk.to)).toBe(true)
    const span = daysBetween(chunk.from, chunk.to)
    expect(span).toBeGreaterThanOrEqual(0)
    expect(span).toBeLessThanOrEqual(maxDays - 1)
    const next = chunks[index + 1]
    // Contiguity and no overlap in one: the next chunk starts the day after this one ends.
    if (next) expect(next.from).toBe(addDays(chunk.to, 1))
  }
  const covered = chunks.reduce((days, chunk) => days + daysBetween(chunk.from, chunk.to) + 1, 0)
  expect(covered).toBe(daysBetween(range.from, range.to) + 1)
}

// Run under a zone with DST, so that arithmetic done in local time (23- and 25-hour days) would show.
let savedZone: string | undefined
beforeAll(() => {
  savedZone = process.env.TZ
  process.env.TZ = 'America/Denver'
})
afterAll(() => {
  if (savedZone === undefined) delete process.env.TZ
  else process.env.TZ = savedZone
})

describe('splitIntoChunks', () => {
  const cases: Array<[string, DateRange, number]> = [
    ['1 day', { from: '2025-11-17', to: '2025-11-17' }, 1],
    ['30 days: one chunk', { from: '2025-11-01', to: '2025-11-30' }, 1],
    ['31 days: two chunks', { from: '2025-12-01', to: '2025-12-31' }, 2],
    ['37 days: the default sync window', { from: '2025-11-10', to: '2025-12-16' }, 2],
    ['365 days', { from: '2025-01-01', to: '2025-12-31' }, 13],
    ['366 days of a leap year', { from: '2028-01-01', to: '2028-12-31' }, 13],
    ['across a leap day', { from: '2028-02-15', to: '2028-03-20' }, 2],
    ['ending on a leap day', { from: '2028-01-31', to: '2028-02-29' }, 1],
    ['month ends: 60 days from January 31', { from: '2025-01-31', to: '2025-03-31' }, 2],
    ['across the US spring DST change', { from: '2025-03-01', to: '2025-03-31' }, 2],
    ['across the EU autumn DST change', { from: '2025-10-20', to: '2025-11-19' }, 2],
    ['across a year end', { from: '2025-12-20', to: '2026-01-25' }, 2],
  ]
  test.each(cases)('%s', (_name, range, expectedChunks) => {
    const chunks = splitIntoChunks(range)
    expect(chunks).toHaveLength(expectedChunks)
    expectExactCover(range, chunks, 30)
  })

  test('31 days splits as 30 + 1', () => {
    expect(splitIntoChunks({ from: '2025-12-01', to: '2025-12-31' })).toEqual([
      { from: '2025-12-01', to: '2025-12-30' },
      { from: '2025-12-31', to: '2025-12-31' },
    ])
  })

  test('a chunk over the leap day counts it', () => {
    expect(splitIntoChunks({ from: '2028-02-15', to: '2028-03-20' })[0]).toEqual({ from: '2028-02-15', to: '2028-03-15' })
  })

  const sizes: Array<[number, DateRange]> = [
    [1, { from: '2025-02-25', to: '2025-03-03' }],
    [7, { from: '2025-01-01', to: '2025-03-01' }],
    [29, { from: '2028-02-01', to: '2028-04-30' }],
  ]
  test.each(sizes)('maxDays %i', (maxDays, range) => {
    const chunks = splitIntoChunks(range, maxDays)
    expect(chunks).toHaveLength(Math.ceil((daysBetween(range.from, range.to) + 1) / maxDays))
    expectExactCover(range, chunks, maxDays)
  })

  const invalid: Array<[string, DateRange, number]> = [
    ['ends before it starts', { from: '2025-11-18', to: '2025-11-17' }, 30],
    ['not a date', { from: '2025-11-xx', to: '2025-11-17' }, 30],
    ['impossible date', { from: '2025-02-29', to: '2025-03-17' }, 30],
    ['a timestamp instead of a date', { from: '2025-11-01T00:00:00Z', to: '2025-11-17' }, 30],
    ['maxDays 0', { from: '2025-11-01', to: '2025-11-17' }, 0],
    ['maxDays fractional', { from: '2025-11-01', to: '2025-11-17' }, 2.5],
  ]
  test.each(invalid)('refuses %s', (_name, range, maxDays) => {
    expect(() => splitIntoChunks(range, maxDays)).toThrow(RangeError)
  })
})

describe('calendar arithmetic', () => {
  const additions: Array<[string, number, string]> = [
    ['2025-01-31', 1, '2025-02-01'],
    ['2025-02-28', 1, '2025-03-01'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2028-03-01', -1, '2028-02-29'],
    ['2025-12-31', 1, '2026-01-01'],
    ['2025-03-09', 1, '2025-03-10'], // US DST starts: still one calendar day
    ['2025-11-02', 1, '2025-11-03'], // US DST ends
    ['2025-11-17', -20, '2025-10-28'],
    ['2025-11-17', 0, '2025-11-17'],
  ]
  test.each(additions)('addDays(%s, %i) = %s', (day, days, expected) => {
    expect(addDays(day, days)).toBe(expected)
  })

  const spans: Array<[string, string, number]> = [
    ['2025-11-17', '2025-11-17', 0],
    ['2025-11-17', '2025-12-16', 29],
    ['2028-02-01', '2028-03-01', 29],
    ['2025-02-01', '2025-03-01', 28],
    ['2025-12-31', '2025-01-01', -364],
  ]
  test.each(spans)('daysBetween(%s, %s) = %i', (from, to, expected) => {
    expect(daysBetween(from, to)).toBe(expected)
  })

  const dates: Array<[string, boolean]> = [
    ['2028-02-29', true],
    ['2027-02-29', false],
    ['2025-04-31', false],
    ['2025-13-01', false],
    ['2025-00-10', false],
    ['2025-1-10', false],
    ['20251110', false],
    ['', false],
  ]
  test.each(dates)('isCalendarDate(%p) is %p', (day, expected) => expect(isCalendarDate(day)).toBe(expected))

  test('addDays refuses a non-date', () => expect(() => addDays('tomorrow', 1)).toThrow(RangeError))
})
