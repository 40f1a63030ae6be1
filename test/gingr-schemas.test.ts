import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { Animal, Envelope, Owner, parseRecords, Reservation, ReservationType } from '../src/gingr/schemas.ts'
import { parseTimestamp } from '../src/gingr/timestamp.ts'

/** A reservation as Gingr documents it; each case below changes one thing. */
function wireReservation(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reservation_id: '6904',
    standing_reservation: false,
    start_date: '2025-11-17T13:00:00-07:00',
    end_date: '2025-11-20T11:00:00-07:00',
    created_date: '2025-11-01T09:15:00-06:00',
    confirmed_date: '2025-11-01T09:16:00-06:00',
    check_in_date: null,
    check_out_date: null,
    cancelled_date: null,
    wait_list_date: null,
    reservation_type: { id: '3', type: 'Boarding | Indoor Suite' },
    animal: { id: '812', name: 'Biscuit', breed: 'Labrador Retriever', species_id: '1' },
    owner: {
      id: '455',
      first_name: 'Dana',
      last_name: 'Whitfield',
      email: 'dana@example.com',
      cell_phone: '(303) 555-0147',
      address_1: '12 Elm St',
      address_2: '',
      city: 'Denver',
      region: 'CO',
    },
    notes: { reservation_notes: '<p>Late pickup</p>', animal_notes: null, owner_notes: '' },
    warnings: { medicines: 'Apoquel', allergies: '' },
    services: [{ id: '77', name: 'Bath', scheduled_at: '2025-11-19T10:00:00-07:00', cost: 35 }],
    transaction: [],
    deposit: [],
    ...patch,
  }
}

function withOwner(patch: Record<string, unknown>) {
  return { owner: { ...(wireReservation().owner as object), ...patch } }
}
function withAnimal(patch: Record<string, unknown>) {
  return { animal: { ...(wireReservation().animal as object), ...patch } }
}
function without(...keys: string[]): Record<string, unknown> {
  const record = wireReservation()
  for (const key of keys) delete record[key]
  return record
}

function parseOne(record: unknown): Reservation {
  const { records, invalid } = parseRecords(Reservation, [record])
  expect(invalid).toEqual([])
  expect(records).toHaveLength(1)
  return records[0] as Reservation
}

describe('Reservation: quirks that must validate', () => {
  const cases: Array<[string, unknown, (r: Reservation) => void]> = [
    [
      'the documented example',
      wireReservation(),
      (r) => {
        expect(r.reservation_id).toBe('6904')
        expect(r.start_date.toISOString()).toBe('2025-11-17T20:00:00.000Z')
        expect(r.end_date.toISOString()).toBe('2025-11-20T18:00:00.000Z')
        expect(r.start_day).toBe('2025-11-17')
        expect(r.end_day).toBe('2025-11-20')
        expect(r.confirmed_date?.toISOString()).toBe('2025-11-01T15:16:00.000Z')
        expect(r.reservation_type).toEqual({ id: '3', type: 'Boarding | Indoor Suite' })
      },
    ],
    [
      'ids as JSON numbers',
      wireReservation({ reservation_id: 6904, reservation_type: { id: 3, type: 'Daycare' }, ...withAnimal({ id: 812 }) }),
      (r) => {
        expect(r.reservation_id).toBe('6904')
        expect(r.reservation_type.id).toBe('3')
        expect(r.animal.id).toBe('812')
      },
    ],
    ['ids with leading zeros are the same id', wireReservation({ reservation_id: '06904' }), (r) => expect(r.reservation_id).toBe('6904')],
    [
      'the day as written, not the UTC day',
      wireReservation({ start_date: '2025-11-17T23:30:00-07:00' }),
      (r) => {
        expect(r.start_date.toISOString()).toBe('2025-11-18T06:30:00.000Z')
        expect(r.start_day).toBe('2025-11-17')
      },
    ],
    [
      'Z, fractions and a space separator',
      wireReservation({ start_date: '2025-11-17 20:00:00.123456Z' }),
      (r) => {
        expect(r.start_date.toISOString()).toBe('2025-11-17T20:00:00.123Z')
      },
    ],
    [
      'offset without colon, half-hour offset',
      wireReservation({ start_date: '2025-11-17T13:00:00+0530' }),
      (r) => {
        expect(r.start_date.toISOString()).toBe('2025-11-17T07:30:00.000Z')
      },
    ],
    ['leap day', wireReservation({ start_date: '2028-02-29T08:00:00-07:00' }), (r) => expect(r.start_day).toBe('2028-02-29')],
    [
      'status dates as "" are not set',
      wireReservation({ check_in_date: '', cancelled_date: '  ' }),
      (r) => {
        expect(r.check_in_date).toBeNull()
        expect(r.cancelled_date).toBeNull()
      },
    ],
    ['booleans as "1"', wireReservation({ standing_reservation: '1' }), (r) => expect(r.standing_reservation).toBe(true)],
    ['booleans as "0"', wireReservation({ standing_reservation: '0' }), (r) => expect(r.standing_reservation).toBe(false)],
    ['booleans as 1', wireReservation({ standing_reservation: 1 }), (r) => expect(r.standing_reservation).toBe(true)],
    ['booleans absent', without('standing_reservation'), (r) => expect(r.standing_reservation).toBe(false)],
    [
      'transaction as an object',
      wireReservation({ transaction: { pos_transaction_id: '991', price: '120.50' } }),
      (r) => {
        expect(r.transaction).toEqual({ pos_transaction_id: '991', price: 120.5 })
      },
    ],
    [
      'transaction and deposit as []',
      wireReservation({ transaction: [], deposit: [] }),
      (r) => {
        expect(r.transaction).toBeNull()
        expect(r.deposit).toBeNull()
      },
    ],
    [
      'transaction as junk is lenient',
      wireReservation({ transaction: 'n/a', deposit: [1, 2] }),
      (r) => {
        expect(r.transaction).toBeNull()
        expect(r.deposit).toBeNull()
      },
    ],
    ['deposit amount as text', wireReservation({ deposit: { amount: '25' } }), (r) => expect(r.deposit).toEqual({ amount: 25 })],
    [
      'notes absent',
      without('notes'),
      (r) => {
        expect(r.notes).toEqual({ reservation_notes: null, animal_notes: null, owner_notes: null })
      },
    ],
    ['notes as PHP []', wireReservation({ notes: [] }), (r) => expect(r.notes.reservation_notes).toBeNull()],
    [
      'notes keep HTML, "" is null',
      wireReservation(),
      (r) => {
        expect(r.notes).toEqual({ reservation_notes: '<p>Late pickup</p>', animal_notes: null, owner_notes: null })
      },
    ],
    [
      'optional owner text: "" and null and absent are null',
      wireReservation(withOwner({ email: '', address_2: null, region: undefined })),
      (r) => {
        expect(r.owner.email).toBeNull()
        expect(r.owner.address_2).toBeNull()
        expect(r.owner.region).toBeNull()
      },
    ],
    [
      'a phone as a JSON number',
      wireReservation(withOwner({ cell_phone: 3035550147 })),
      (r) => expect(r.owner.cell_phone).toBe('3035550147'),
    ],
    [
      'empty names are names',
      wireReservation({ ...withOwner({ first_name: '', last_name: '' }), ...withAnimal({ name: '' }) }),
      (r) => {
        expect(r.owner.first_name).toBe('')
        expect(r.animal.name).toBe('')
      },
    ],
    ['species absent', wireReservation(withAnimal({ species_id: undefined })), (r) => expect(r.animal.species_id).toBeNull()],
    [
      'unknown fields are dropped',
      wireReservation({ location_id: '2', surprise: { deep: true } }),
      (r) => {
        expect('surprise' in r).toBe(false)
      },
    ],
    ['services as junk are lenient', wireReservation({ services: 'none' }), (r) => expect(r.services).toEqual([])],
    [
      'services keep cost and time',
      wireReservation(),
      (r) => {
        expect(r.services[0]?.cost).toBe(35)
        expect(r.services[0]?.scheduled_at?.toISOString()).toBe('2025-11-19T17:00:00.000Z')
      },
    ],
  ]
  test.each(cases)('%s', (_name, record, check) => check(parseOne(record)))
})

describe('Reservation: invalid records', () => {
  const cases: Array<[string, unknown, string | null, RegExp]> = [
    ['missing id', without('reservation_id'), null, /^reservation_id: Invalid key/],
    ['non-numeric id', wireReservation({ reservation_id: 'R-6904' }), null, /^reservation_id: Invalid id/],
    ['negative id', wireReservation({ reservation_id: -4 }), null, /^reservation_id: Invalid id/],
    ['fractional id', wireReservation({ reservation_id: 69.5 }), null, /^reservation_id: Invalid id/],
    ['id of the wrong type', wireReservation({ reservation_id: true }), null, /^reservation_id: Invalid type/],
    ['timestamp without offset', wireReservation({ start_date: '2025-11-17T13:00:00' }), '6904', /^start_date: .*no UTC offset/],
    ['a date instead of a timestamp', wireReservation({ end_date: '2025-11-20' }), '6904', /^end_date: Invalid timestamp/],
    ['impossible date', wireReservation({ start_date: '2025-02-30T13:00:00-07:00' }), '6904', /^start_date: .*not a real date/],
    ['not a leap year', wireReservation({ start_date: '2027-02-29T13:00:00-07:00' }), '6904', /^start_date: .*not a real date/],
    ['hour 24', wireReservation({ end_date: '2025-11-20T24:00:00-07:00' }), '6904', /^end_date: .*not a real date/],
    ['MySQL zero date', wireReservation({ check_out_date: '0000-00-00 00:00:00' }), '6904', /^check_out_date: .*no UTC offset/],
    // Unix seconds are read in the facility's zone (test/gingr-timestamps.test.ts); without one they have no day.
    [
      'timestamp as a number, no zone to read it in',
      wireReservation({ start_date: 1763409600 }),
      '6904',
      /^start_date: Invalid timestamp: unix seconds 1763409600 need a time zone/,
    ],
    ['timestamp as an object', wireReservation({ start_date: { date: '2025-11-17' } }), '6904', /^start_date: Invalid type/],
    ['missing start', without('start_date'), '6904', /^start_date: Invalid key/],
    ['missing status date key', without('cancelled_date'), '6904', /^cancelled_date: Invalid key/],
    ['bad status date', wireReservation({ check_in_date: 'yesterday' }), '6904', /^check_in_date: Invalid timestamp/],
    ['missing owner', without('owner'), '6904', /^owner: Invalid key/],
    ['owner is null', wireReservation({ owner: null }), '6904', /^owner: Invalid type/],
    ['owner without id', wireReservation(withOwner({ id: undefined })), '6904', /^owner\.id: Invalid type/],
    ['owner name null', wireReservation(withOwner({ first_name: null })), '6904', /^owner\.first_name: Invalid type/],
    ['owner email as an object', wireReservation(withOwner({ email: { address: 'x' } })), '6904', /^owner\.email: Invalid type/],
    ['animal id not numeric', wireReservation(withAnimal({ id: 'abc' })), '6904', /^animal\.id: Invalid id/],
    ['animal name as an object', wireReservation(withAnimal({ name: {} })), '6904', /^animal\.name: Invalid type/],
    ['missing reservation type', without('reservation_type'), '6904', /^reservation_type: Invalid key/],
    ['reservation type without text', wireReservation({ reservation_type: { id: '3' } }), '6904', /^reservation_type\.type: Invalid key/],
    [
      'a note that is not text',
      wireReservation({ notes: { reservation_notes: { html: 1 } } }),
      '6904',
      /^notes\.reservation_notes: Invalid type/,
    ],
    ['notes as a string', wireReservation({ notes: 'call owner' }), '6904', /^notes: Invalid type/],
    ['notes as a non-empty list', wireReservation({ notes: ['a'] }), '6904', /^notes: /],
    ['the record is a string', 'hello', null, /^record: Invalid type/],
    ['the record is null', null, null, /^record: Invalid type/],
  ]
  test.each(cases)('%s', (_name, record, reservationId, issue) => {
    const { records, invalid } = parseRecords(Reservation, [record])
    expect(records).toEqual([])
    expect(invalid).toHaveLength(1)
    expect(invalid[0]?.reservationId).toBe(reservationId)
    expect(invalid[0]?.issue).toMatch(issue)
  })
})

/** A long number, as a hostile or broken payload could send. */
function digits(count: number): string {
  let text = '7'
  for (let i = 1; i < count; i += 1) text += String((i * 7919) % 10)
  return text
}

describe("the database's limits: values PostgreSQL or Tailtown cannot hold make the record invalid, with a readable issue", () => {
  const refused: Array<[string, unknown, string | null, RegExp]> = [
    // Instants: 1900-01-01T00:00Z up to, not including, 2200-01-01T00:00Z (src/gingr/timestamp.ts).
    [
      "Gingr's open-ended end, year 10000 in UTC",
      wireReservation({ end_date: '9999-12-31T23:59:59-07:00' }),
      '6904',
      /^end_date: Invalid timestamp: "9999-12-31T23:59:59-07:00" is outside 1900-01-01 to 2199-12-31 \(UTC\)/,
    ],
    [
      'a start in year 0000',
      wireReservation({ start_date: '0000-06-01T10:00:00Z' }),
      '6904',
      /^start_date: .* is outside 1900-01-01 to 2199-12-31/,
    ],
    ['a check-in in year 0000', wireReservation({ check_in_date: '0000-06-01T10:00:00Z' }), '6904', /^check_in_date: .* is outside/],
    [
      'a cancellation at 2200-01-01T00:00Z',
      wireReservation({ cancelled_date: '2200-01-01T00:00:00Z' }),
      '6904',
      /^cancelled_date: .* is outside/,
    ],
    [
      'a check-out at 1899-12-31T23:59:59.999Z',
      wireReservation({ check_out_date: '1899-12-31T23:59:59.999Z' }),
      '6904',
      /^check_out_date: .* is outside/,
    ],
    [
      'a local 2199-12-31T23:00-07:00, which is 2200 in UTC',
      wireReservation({ end_date: '2199-12-31T23:00:00-07:00' }),
      '6904',
      /^end_date: .* is outside/,
    ],
    [
      'a local 1900-01-01T00:30+01:00, which is 1899 in UTC',
      wireReservation({ start_date: '1900-01-01T00:30:00+01:00' }),
      '6904',
      /^start_date: .* is outside/,
    ],
    // Ids: at most 20 digits, MySQL's BIGINT UNSIGNED (src/gingr/fields.ts).
    [
      'a 21-digit reservation id',
      wireReservation({ reservation_id: '1'.repeat(21) }),
      null,
      /^reservation_id: Invalid id: expected a whole number of at most 20 digits, received "1{21}"$/,
    ],
    [
      'a 10,000-digit reservation id',
      wireReservation({ reservation_id: digits(10_000) }),
      null,
      /^reservation_id: Invalid id: expected a whole number of at most 20 digits, received "\d{40}…" \(10,000 characters\)$/,
    ],
    [
      'an 8,000-digit animal id',
      wireReservation(withAnimal({ id: digits(8_000) })),
      '6904',
      /^animal\.id: Invalid id: .* \(8,000 characters\)$/,
    ],
    [
      'an 8,000-digit reservation type id',
      wireReservation({ reservation_type: { id: digits(8_000), type: 'Boarding' } }),
      '6904',
      /^reservation_type\.id: Invalid id: .* \(8,000 characters\)$/,
    ],
    [
      'an 8,000-digit owner id',
      wireReservation(withOwner({ id: digits(8_000) })),
      '6904',
      /^owner\.id: Invalid id: .* \(8,000 characters\)$/,
    ],
    // Emails: at most 254 characters, RFC 5321's bound (src/gingr/fields.ts).
    [
      'a 255-character email',
      wireReservation(withOwner({ email: `${'a'.repeat(243)}@example.com` })),
      '6904',
      /^owner\.email: Invalid email: 255 characters, more than the 254 an address can have$/,
    ],
    [
      'a 6,000-character email',
      wireReservation(withOwner({ email: `${'b'.repeat(5_988)}@example.com` })),
      '6904',
      /^owner\.email: Invalid email: 6,000 characters, more than the 254/,
    ],
  ]
  test.each(refused)('refused: %s', (_name, record, reservationId, issue) => {
    const { records, invalid } = parseRecords(Reservation, [record])
    expect(records).toEqual([])
    expect(invalid).toEqual([{ reservationId, issue: expect.stringMatching(issue) }])
    expect(invalid[0]!.issue.length).toBeLessThan(200)
  })

  const accepted: Array<[string, unknown, (r: Reservation) => void]> = [
    [
      'the first instant, 1900-01-01T00:00Z',
      wireReservation({ start_date: '1900-01-01T00:00:00Z' }),
      (r) => {
        expect(r.start_date.toISOString()).toBe('1900-01-01T00:00:00.000Z')
      },
    ],
    [
      'the same instant written locally, 1899-12-31T17:00-07:00',
      wireReservation({ start_date: '1899-12-31T17:00:00-07:00' }),
      (r) => {
        expect(r.start_date.toISOString()).toBe('1900-01-01T00:00:00.000Z')
        expect(r.start_day).toBe('1899-12-31')
      },
    ],
    [
      'the last instant, 2199-12-31T23:59:59.999Z',
      wireReservation({ end_date: '2199-12-31T23:59:59.999Z' }),
      (r) => {
        expect(r.end_date.toISOString()).toBe('2199-12-31T23:59:59.999Z')
      },
    ],
    [
      'a 20-digit id',
      wireReservation({ reservation_id: '18446744073709551615' }),
      (r) => expect(r.reservation_id).toBe('18446744073709551615'),
    ],
    [
      'a short id behind 10,000 zeros: the canonical id counts',
      wireReservation({ reservation_id: `${'0'.repeat(10_000)}6904` }),
      (r) => {
        expect(r.reservation_id).toBe('6904')
      },
    ],
    [
      'a 254-character email',
      wireReservation(withOwner({ email: `${'a'.repeat(242)}@example.com` })),
      (r) => expect(r.owner.email).toHaveLength(254),
    ],
    [
      'a 254-character email with blanks around it, trimmed',
      wireReservation(withOwner({ email: `  ${'a'.repeat(242)}@example.com\t ` })),
      (r) => {
        expect(r.owner.email).toBe(`${'a'.repeat(242)}@example.com`)
      },
    ],
    [
      'a service time out of range, lenient: no time',
      wireReservation({ services: [{ id: '77', name: 'Bath', scheduled_at: '9999-12-31T23:59:59-07:00', cost: 35 }] }),
      (r) => {
        expect(r.services[0]?.scheduled_at).toBeNull()
      },
    ],
    [
      'a service id of 8,000 digits, lenient: no id',
      wireReservation({ services: [{ id: digits(8_000), name: 'Bath', cost: 35 }] }),
      (r) => {
        expect(r.services[0]?.id).toBeNull()
      },
    ],
  ]
  test.each(accepted)('accepted: %s', (_name, record, check) => check(parseOne(record)))

  test('an owner from /owners is held to the same email limit', () => {
    const { invalid } = parseRecords(Owner, [{ id: '455', first_name: 'Dana', last_name: 'W', email: `${'c'.repeat(300)}@example.com` }])
    expect(invalid[0]?.issue).toMatch(/^email: Invalid email: 312 characters/)
  })
})

describe('parseRecords', () => {
  const good = wireReservation()
  const second = wireReservation({ reservation_id: '6908' })
  const bad = wireReservation({ reservation_id: '6905', start_date: 'soon' })
  const cases: Array<[string, Envelope['data'], string[], (string | null)[]]> = [
    ['an object keyed by id', { '6904': good, '6905': bad, '6908': second }, ['6904', '6908'], ['6905']],
    ['an array', [good, bad, second], ['6904', '6908'], ['6905']],
    ['[] for none', [], [], []],
    ['null for none', null, [], []],
    ['every record bad', [bad, 'x', without('reservation_id')], [], ['6905', null, null]],
  ]
  test.each(cases)('data as %s', (_name, data, validIds, invalidIds) => {
    const { records, invalid } = parseRecords(Reservation, data)
    expect(records.map((r) => r.reservation_id)).toEqual(validIds)
    expect(invalid.map((r) => r.reservationId)).toEqual(invalidIds)
  })

  test('a huge hostile value is not echoed whole', () => {
    const { invalid } = parseRecords(Reservation, [wireReservation({ start_date: 'x'.repeat(100_000) })])
    expect(invalid[0]?.issue.length).toBeLessThan(200)
  })
})

describe('Envelope', () => {
  const valid: Array<[string, unknown]> = [
    ['success', { success: true, error: false, data: { '1': {} } }],
    ['error as text', { success: false, error: 'Invalid key' }],
    ['error true with a message', { error: true, message: 'Range too long' }],
    ['data as []', { success: true, error: false, data: [] }],
    ['data absent', { success: true }],
  ]
  test.each(valid)('accepts %s', (_name, body) => expect(v.safeParse(Envelope, body).success).toBe(true))

  const invalid: Array<[string, unknown]> = [
    ['data as text', { success: true, data: 'nothing' }],
    ['error as a number', { error: 1 }],
    ['not an object', ['a']],
  ]
  test.each(invalid)('rejects %s', (_name, body) => expect(v.safeParse(Envelope, body).success).toBe(false))

  test('data absent reads as null', () => {
    expect(v.parse(Envelope, { success: true }).data).toBeNull()
  })
})

describe('Owner, Animal, ReservationType', () => {
  test('an owner: ids canonical, blanks null, lenient extras', () => {
    const owner = v.parse(Owner, {
      id: 455,
      first_name: 'Dana',
      last_name: 'Whitfield',
      email: '',
      cell_phone: '3035550147',
      home_phone: null,
      address_1: '12 Elm St',
      address_2: '',
      city: 'Denver',
      state: 'CO',
      zip: 80202,
      emergency_contact_name: { odd: true },
      notes: '<b>VIP</b>',
      extra: 'ignored',
    })
    expect(owner).toMatchObject({ id: '455', email: null, zip: '80202', emergency_contact_name: null, notes: '<b>VIP</b>' })
    expect(owner.emergency_contact_phone).toBeNull()
  })

  test('an animal: flags, birthday in unix seconds, weight as text', () => {
    const animal = v.parse(Animal, {
      id: '812',
      owner_id: '455',
      first_name: 'Biscuit',
      species_id: '1',
      breed_id: '',
      gender: 'Male',
      birthday: '1577836800',
      weight: '62.5',
      fixed: '1',
      vip: '0',
      banned: false,
      temperment: 'calm',
    })
    expect(animal).toMatchObject({ id: '812', owner_id: '455', species_id: '1', breed_id: null, weight: 62.5, fixed: true, vip: false })
    expect(animal.birthday?.toISOString()).toBe('2020-01-01T00:00:00.000Z')
  })

  const invalidAnimals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no owner', { id: '1', first_name: 'Rex' }, /owner_id/],
    ['a bad id', { id: '1a', owner_id: '2', first_name: 'Rex' }, /id/],
    ['no name', { id: '1', owner_id: '2' }, /first_name/],
  ]
  test.each(invalidAnimals)('an invalid animal: %s', (_name, record, path) => {
    const { invalid } = parseRecords(Animal, [record])
    expect(invalid[0]?.issue).toMatch(path)
  })

  test('a reservation type row', () => {
    const type = v.parse(ReservationType, { id: '1', type: 'Boarding | Cat Cabana', status: '1', is_deleted: '0', color: '#fff' })
    expect(type).toEqual({ id: '1', type: 'Boarding | Cat Cabana', status: '1', is_deleted: false })
  })
})

describe('parseTimestamp', () => {
  const cases: Array<[string, string | null]> = [
    ['2025-11-17T13:00:00-07:00', '2025-11-17T20:00:00.000Z'],
    ['2025-03-09T03:30:00-06:00', '2025-03-09T09:30:00.000Z'], // just after Denver's spring-forward
    ['2025-11-02T01:30:00-07:00', '2025-11-02T08:30:00.000Z'], // the repeated hour, second pass
    ['2025-11-17T13:00-07:00', '2025-11-17T20:00:00.000Z'],
    ['2025-11-17T13:00:00+14:00', '2025-11-16T23:00:00.000Z'],
    ['2025-11-17T13:00:00-07', '2025-11-17T20:00:00.000Z'],
    ['2025-12-31T23:59:59.999Z', '2025-12-31T23:59:59.999Z'],
    ['2025-11-17T13:00:00', null],
    ['2025-11-17', null],
    ['2025-13-01T00:00:00Z', null],
    ['2025-11-17T13:60:00Z', null],
    ['2025-11-17T13:00:00+07:60', null],
    ['2025-11-17t13:00:00z', '2025-11-17T13:00:00.000Z'],
    ['1969-12-31T23:59:59Z', '1969-12-31T23:59:59.000Z'],
    ['2000-02-29T12:00:00+01:00', '2000-02-29T11:00:00.000Z'],
    ['1900-02-29T12:00:00Z', null],
    ['1900-01-01T00:00:00Z', '1900-01-01T00:00:00.000Z'],
    ['1899-12-31T23:59:59Z', null],
    ['2199-12-31T23:59:59Z', '2199-12-31T23:59:59.000Z'],
    ['2200-01-01T00:00:00Z', null],
    ['9999-12-31T23:59:59-07:00', null],
    ['0000-06-01T10:00:00Z', null],
    ['2025-11-17T13:00:00.Z', null],
    ['2025-11-17T13:00:00.1234567890Z', null],
    ['2025-11-17T13:00:00-07:00 ', null],
    ['2025-11-17T13:00:00-07:', null],
    ['2025-11-17T13:00:00+', null],
    ['2025-11-17X13:00:00Z', null],
    ['17/11/2025 13:00', null],
    ['', null],
  ]
  test.each(cases)('%p', (text, expected) => {
    const parsed = parseTimestamp(text)
    if (expected === null) {
      expect(typeof parsed).toBe('string')
    } else {
      expect(typeof parsed === 'string' ? parsed : parsed.instant.toISOString()).toBe(expected)
    }
  })

  test('agrees with Date.parse on 2,000 random instants and offsets', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    const pad = (n: number, width = 2) => String(n).padStart(width, '0')
    for (let i = 0; i < 2_000; i += 1) {
      const instant = new Date(Date.UTC(1990, 0, 1) + random(60 * 365) * 86_400_000 + random(86_400) * 1000 + random(1000))
      const offset = (random(2) ? 1 : -1) * (random(15) * 60 + [0, 30, 45][random(3)]!)
      const wall = new Date(instant.getTime() + offset * 60_000).toISOString().slice(0, 23)
      const text = `${wall}${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
      const parsed = parseTimestamp(text)
      expect(typeof parsed === 'string' ? parsed : parsed.instant.getTime()).toBe(Date.parse(text))
      expect(typeof parsed === 'string' ? parsed : parsed.day).toBe(wall.slice(0, 10))
    }
  })
})
