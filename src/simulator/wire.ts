/**
 * The JSON exactly as Gingr sends it: ids and flags are strings, timestamps are local wall clock
 * with the facility's offset for that instant, "nothing" is `[]` where PHP serialises an empty
 * array. These types describe what the simulator emits; the client's own valibot schemas live in
 * src/gingr/ and deliberately share nothing with them, so a misreading on either side shows.
 */
import { formatInZone } from './zone.ts'

/** `"2025-11-17T13:00:00-07:00"`: the facility's wall clock with the offset of that instant. */
export function facilityTimestamp(instant: Date, timeZone: string): string {
  return formatInZone(instant.getTime(), timeZone)
}

/** The owner as embedded in a reservation: a subset, and the state is called `region` here. */
export interface WireReservationOwner {
  id: string
  first_name: string
  last_name: string
  email: string | null
  cell_phone: string | null
  address_1: string | null
  address_2: string | null
  city: string | null
  region: string | null
}

export interface WireService {
  id: string
  name: string
  scheduled_at: string | null
  scheduled_until: string | null
  cost: number
  /** An extra field no document mentions; clients must ignore it. */
  quantity: string
}

export interface WireReservation {
  reservation_id: string
  standing_reservation: boolean
  start_date: string
  end_date: string
  created_date: string | null
  confirmed_date: string | null
  check_in_date: string | null
  check_out_date: string | null
  cancelled_date: string | null
  wait_list_date: string | null
  reservation_type: { id: string; type: string }
  animal: { id: string; name: string; breed: string | null }
  owner: WireReservationOwner
  notes: { reservation_notes: string | null; animal_notes: string | null; owner_notes: string | null }
  warnings: { medicines: string | null; allergies: string | null }
  services: WireService[]
  transaction: [] | { pos_transaction_id: string; price: number }
  deposit: [] | { amount: number }
  /** Undocumented extras that real answers carry; a client must not choke on them. */
  location_id: string
  source: string
  custom_fields: [] | Record<string, string>
}

export interface WireOwner {
  id: string
  first_name: string
  last_name: string
  email: string | null
  cell_phone: string | null
  home_phone: string | null
  address_1: string | null
  address_2: string | null
  city: string | null
  state: string | null
  zip: string | null
  emergency_contact_name: string | null
  emergency_contact_phone: string | null
  notes: string | null
}

export interface WireAnimal {
  id: string
  owner_id: string
  /** The pet's name. */
  first_name: string
  /** "1" dog, "2" cat, "3" other. */
  species_id: string
  breed_id: string | null
  color: string | null
  gender: 'Male' | 'Female' | null
  /** Unix seconds as a string. */
  birthday: string | null
  weight: string | null
  microchip: string | null
  vet_id: string | null
  medicines: string | null
  allergies: string | null
  notes: string | null
  feeding_notes: string | null
  grooming_notes: string | null
  /** Sic: Gingr's spelling. */
  temperment: string | null
  fixed: '1' | '0'
  vip: '1' | '0'
  banned: '1' | '0'
  image: string | null
}

export interface WireReservationType {
  id: string
  type: string
  /** "1" active, "0" inactive. */
  status: '1' | '0'
  is_deleted: '1' | '0'
  description: string | null
  location_id: string
}
