/**
 * Every form a Gingr timestamp arrives in, read in the facility's zone: the instant and the
 * facility's calendar day, DST gaps and overlaps resolved one documented way ("compatible": an
 * overlap is the earlier instant, a gap is read with the offset from before it), zones far from
 * UTC, and everything else an invalid record that quotes (a glimpse of) the value.
 */
import { describe, expect, test } from 'bun:test'
import { parseRecords, reservationSchema } from '../src/gingr/schemas.ts'
import { parseTimestamp } from '../src/gingr/timestamp.ts'
import { dayInZone, instantOfWallTime, offsetAt } from '../src/gingr/wall-time.ts'

const DENVER = 'America/Denver'
const LONDON = 'Europe/London'

type Case = [text: string | number, zone: string | undefined, instant: string, day: string]

describe('parseTimestamp: every form', () => {
  const cases: Case[] = [
    // With an offset or Z: the instant written, the day as written.
    ['2025-11-17T13:00:00-07:00', DENVER, '2025-11-17T20:00:00.000Z', '2025-11-17'],
    ['2025-11-17T13:00:00-07:00', undefined, '2025-11-17T20:00:00.000Z', '2025-11-17'],
    ['2025-11-17T20:00:00Z', DENVER, '2025-11-17T20:00:00.000Z', '2025-11-17'],
    ['2025-11-17T20:00:00.250Z', DENVER, '2025-11-17T20:00:00.250Z', '2025-11-17'],
    ['2025-11-17 13:00:00-0700', DENVER, '2025-11-17T20:00:00.000Z', '2025-11-17'],
    // Without an offset: wall time in the facility's zone (Tailtown's own tests send this form).
    ['2025-10-13T12:00:00', DENVER, '2025-10-13T18:00:00.000Z', '2025-10-13'],
    ['2025-10-13T12:00', DENVER, '2025-10-13T18:00:00.000Z', '2025-10-13'],
    ['2025-01-13T12:00:00', DENVER, '2025-01-13T19:00:00.000Z', '2025-01-13'],
    // PHP/MySQL's form: the same.
    ['2025-10-13 12:00:00', DENVER, '2025-10-13T18:00:00.000Z', '2025-10-13'],
    ['2025-10-13 12:00', LONDON, '2025-10-13T11:00:00.000Z', '2025-10-13'],
    ['2025-10-13 23:30:00', DENVER, '2025-10-14T05:30:00.000Z', '2025-10-13'],
    // Unix seconds, a number or a numeric string: the instant, and its day in the facility's zone.
    [1_760_378_400, DENVER, '2025-10-13T18:00:00.000Z', '2025-10-13'],
    ['1760378400', DENVER, '2025-10-13T18:00:00.000Z', '2025-10-13'],
    ['1760400000', DENVER, '2025-10-14T00:00:00.000Z', '2025-10-13'],
    ['1760400000', LONDON, '2025-10-14T00:00:00.000Z', '2025-10-14'],
    [1_760_378_400.5, DENVER, '2025-10-13T18:00:00.500Z', '2025-10-13'],
  ]
  for (const [text, zone, instant, day] of cases) {
    test(`${JSON.stringify(text)} in ${zone ?? 'no zone'}`, () => {
      const parsed = parseTimestamp(text, zone)
      expect(typeof parsed === 'string' ? parsed : { instant: parsed.instant.toISOString(), day: parsed.day }).toEqual({ instant, day })
    })
  }
})

describe('DST: a wall time that does not exist, or occurs twice, is resolved, not refused', () => {
  const cases: Array<[name: string, text: string, zone: string, instant: string]> = [
    // Denver springs forward 2025-03-09 02:00 MST -> 03:00 MDT: 02:30 does not exist.
    ['Denver, the hour skipped in March: read with MST, 03:30 MDT', '2025-03-09T02:30:00', DENVER, '2025-03-09T09:30:00.000Z'],
    ['Denver, just before the gap', '2025-03-09T01:59:59', DENVER, '2025-03-09T08:59:59.000Z'],
    ['Denver, just after the gap', '2025-03-09T03:00:00', DENVER, '2025-03-09T09:00:00.000Z'],
    // Denver falls back 2025-11-02 02:00 MDT -> 01:00 MST: 01:30 happens twice.
    ['Denver, the hour repeated in November: the earlier, MDT', '2025-11-02 01:30:00', DENVER, '2025-11-02T07:30:00.000Z'],
    ['Denver, after the repeated hour', '2025-11-02 02:00:00', DENVER, '2025-11-02T09:00:00.000Z'],
    // London springs forward 2025-03-30 01:00 GMT -> 02:00 BST; falls back 2025-10-26 02:00 BST -> 01:00 GMT.
    ['London, the hour skipped in March: read with GMT, 02:30 BST', '2025-03-30T01:30:00', LONDON, '2025-03-30T01:30:00.000Z'],
    ['London, the hour repeated in October: the earlier, BST', '2025-10-26T01:30:00', LONDON, '2025-10-26T00:30:00.000Z'],
    ['London, midnight before the change', '2025-10-26T00:00:00', LONDON, '2025-10-25T23:00:00.000Z'],
    // +13 and +14: the facility's day is a day ahead of UTC's for much of it.
    ['Kiritimati (+14): the morning is the previous UTC day', '2025-06-01T09:00:00', 'Pacific/Kiritimati', '2025-05-31T19:00:00.000Z'],
    ['Tongatapu (+13)', '2025-06-01 08:00', 'Pacific/Tongatapu', '2025-05-31T19:00:00.000Z'],
    // Apia skipped 2011-12-30 altogether when it crossed the date line.
    ['Apia, the day it skipped: read with the old offset', '2011-12-30T12:00:00', 'Pacific/Apia', '2011-12-30T22:00:00.000Z'],
  ]
  for (const [name, text, zone, instant] of cases) {
    test(name, () => {
      const parsed = parseTimestamp(text, zone)
      expect(typeof parsed === 'string' ? parsed : parsed.instant.toISOString()).toBe(instant)
    })
  }

  test('the facility day of a unix instant far from UTC', () => {
    expect(dayInZone(Date.parse('2025-05-31T19:00:00Z'), 'Pacific/Kiritimati')).toBe('2025-06-01')
    expect(dayInZone(Date.parse('2025-05-31T19:00:00Z'), DENVER)).toBe('2025-05-31')
  })

  test('every wall time of a year in Denver and London maps back to itself, gaps aside', () => {
    for (const zone of [DENVER, LONDON]) {
      for (let wall = Date.UTC(2025, 0, 1); wall < Date.UTC(2026, 0, 1); wall += 37 * 60_000) {
        const instant = instantOfWallTime(wall, zone)
        const back = instant + offsetAt(instant, zone)
        // In a gap the instant lands past it by the gap's length: an hour in both zones.
        expect([0, 3_600_000]).toContain(back - wall)
      }
    }
  })
})

describe('anything else stays an invalid record, quoting (a glimpse of) the value', () => {
  const cases: Array<[string | number, string | undefined, RegExp]> = [
    ['2025-10-13T12:00:00', undefined, /"2025-10-13T12:00:00" has no UTC offset, and no time zone was given/],
    ['1760378400', undefined, /unix seconds 1760378400 need a time zone/],
    ['13/10/2025 12:00', DENVER, /expected ISO 8601, "YYYY-MM-DD HH:MM:SS" or unix seconds, received "13\/10\/2025 12:00"/],
    ['0000-00-00 00:00:00', DENVER, /"0000-00-00 00:00:00" is not a real date and time/],
    ['2025-02-30 12:00:00', DENVER, /is not a real date and time/],
    ['yesterday', DENVER, /received "yesterday"/],
    ['', DENVER, /received ""/],
    ['99999999999', DENVER, /expected ISO 8601/],
    [253_402_300_800, DENVER, /outside 1900-01-01 to 2199-12-31 \(UTC\)/],
    [Number.NaN, DENVER, /expected ISO 8601/],
    ['2025-10-13T12:00:00+25:00', DENVER, /expected ISO 8601/],
  ]
  for (const [text, zone, says] of cases) {
    test(`${JSON.stringify(text)}`, () => {
      const parsed = parseTimestamp(text, zone)
      expect(typeof parsed === 'string' ? parsed : 'parsed').toMatch(says)
    })
  }
})

/** A reservation as Gingr documents it, its stay across Denver's change back to standard time. */
const base = {
  reservation_id: '6904',
  standing_reservation: false,
  start_date: '2025-10-31T13:00:00-06:00',
  end_date: '2025-11-03T11:00:00-07:00',
  created_date: '2025-10-01T09:15:00-06:00',
  confirmed_date: null,
  check_in_date: null,
  check_out_date: null,
  cancelled_date: null,
  wait_list_date: null,
  reservation_type: { id: '3', type: 'Boarding' },
  animal: { id: '812', name: 'Biscuit', breed: null },
  owner: {
    id: '455',
    first_name: 'Dana',
    last_name: 'W',
    email: null,
    cell_phone: null,
    address_1: null,
    address_2: null,
    city: null,
    region: null,
  },
  notes: [],
  services: [],
}

describe('a reservation in each form, read with the facility zone', () => {
  const forms: Array<[string, (iso: string) => string | number]> = [
    ['with offset', (iso) => iso],
    ['UTC', (iso) => `${new Date(iso).toISOString().slice(0, 19)}Z`],
    ['local', (iso) => iso.slice(0, 19)],
    ['mysql', (iso) => iso.slice(0, 19).replace('T', ' ')],
    ['unix', (iso) => Date.parse(iso) / 1000],
    ['unix string', (iso) => String(Date.parse(iso) / 1000)],
  ]
  const expected = parseRecords(reservationSchema(DENVER), [base]).records[0]
  for (const [name, form] of forms) {
    test(`${name}: the same record as with the offset`, () => {
      const record = { ...base, start_date: form(base.start_date), end_date: form(base.end_date) }
      const { records, invalid } = parseRecords(reservationSchema(DENVER), [record])
      expect(invalid).toEqual([])
      expect(records[0]).toEqual(expected!)
    })
  }
  test('without the zone, a local form is an invalid record that says why', () => {
    const record = { ...base, start_date: base.start_date.slice(0, 19) }
    const { invalid } = parseRecords(reservationSchema(), [record])
    expect(invalid[0]?.issue).toMatch(/^start_date: Invalid timestamp: ".+" has no UTC offset/)
  })
})
