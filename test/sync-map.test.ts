/**
 * Mapping Gingr owners to customers: which email a customer gets. Placeholders live in the reserved
 * `.invalid` domain, so an owner's own email there is no email at all: it could otherwise equal
 * another owner's placeholder and break UNIQUE ("tenantId", email).
 */
import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { Reservation } from '../src/gingr/schemas.ts'
import { mapWindow } from '../src/sync/map.ts'

function reservationOf(email: string | null): Reservation {
  return v.parse(Reservation, {
    reservation_id: '6904',
    start_date: '2025-11-17T13:00:00-07:00',
    end_date: '2025-11-20T11:00:00-07:00',
    created_date: null,
    confirmed_date: null,
    check_in_date: null,
    check_out_date: null,
    cancelled_date: null,
    wait_list_date: null,
    reservation_type: { id: '3', type: 'Boarding | Indoor Suite' },
    animal: { id: '812', name: 'Biscuit', breed: null, species_id: '1' },
    owner: { id: '455', first_name: 'Dana', last_name: 'Whitfield', email },
  })
}

describe("an owner's email as the customer's", () => {
  const cases: Array<[string, string | null, string | null]> = [
    ['an address', 'dana@example.com', 'dana@example.com'],
    ['blanks around it', '  dana@example.com ', 'dana@example.com'],
    ['NUL inside, dropped', 'dana@exam\u0000ple.com', 'dana@example.com'],
    ['only NUL and blanks', '\u0000 ', null],
    ['none', null, null],
    ["another owner's placeholder", 'gingr-owner-5@no-email.invalid', null],
    ['the placeholder domain in capitals', 'GINGR-OWNER-5@NO-EMAIL.INVALID', null],
    ['any address in .invalid', 'nobody@example.invalid', null],
    ['.invalid with a trailing dot', 'nobody@example.invalid.', null],
    ['the bare TLD', 'nobody@invalid', null],
    ['invalid as a word elsewhere', 'invalid@example.com', 'invalid@example.com'],
    ['a domain ending in "invalid" but not the TLD', 'dana@notinvalid', 'dana@notinvalid'],
    ['.invalid as a subdomain', 'dana@example.invalid.com', 'dana@example.invalid.com'],
  ]
  test.each(cases)('%s', (_name, email, expected) => {
    expect(mapWindow([reservationOf(email)]).customers[0]?.email).toBe(expected)
  })
})
