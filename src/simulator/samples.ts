/**
 * The raw material of generated accounts. The awkward entries are the point: apostrophes and
 * double quotes, accents, right-to-left scripts, emoji and HTML all reach real Gingr answers,
 * and each has broken a naive import once.
 */
import type { WireReservationType } from './wire.ts'

export const FIRST_NAMES = [
  'Emma',
  'Liam',
  'Olivia',
  'Noah',
  'Ava',
  'Mateo',
  'Sofía',
  'José',
  'Zoë',
  'Chloé',
  'Björn',
  'Priya',
  'Wei',
  'Aaliyah',
  'Dmitri',
  'Siobhán',
  'Kwame',
  'Hana',
  'ليلى',
  'נועה',
  'Grace',
  'Ethan',
  'Maya',
  'Lucas',
  'Harper',
  'Jack',
  'Nora',
  'Caleb',
  'Ruby',
  'Elijah',
] as const

export const LAST_NAMES = [
  'Garcia',
  "O'Brien",
  'Nguyễn',
  'Smith',
  'Johnson',
  'Müller',
  'Martínez',
  'Kowalski',
  'Chen',
  'Patel',
  "D'Angelo",
  'van der Berg',
  'Okafor',
  'Haddad',
  'Cohen',
  'Lee',
  'Brown',
  'Wilson',
  'Anderson',
  'Thompson',
  'Rivera',
  'Kim',
  'Jensen',
  'Álvarez',
  'St. James',
  'Yamamoto',
] as const

export const CITIES = ['Denver', 'Boulder', 'Aurora', 'Lakewood', 'Golden', 'Littleton', 'Arvada'] as const

export const STREETS = ['Larimer St', 'Colfax Ave', 'Pearl St', 'Broadway', 'Federal Blvd', 'Alameda Ave', 'Speer Blvd'] as const

export const PET_NAMES = [
  'Biscuit',
  'Luna',
  'Max',
  'Bella',
  'Charlie',
  'Daisy',
  'Cooper',
  'Lucy',
  'Milo',
  'Sadie',
  'Mr. "Whiskers"',
  "Captain Jack's Pup",
  'Pepper 🐾',
  'Nacho 🌮',
  'Zoë',
  'Señor Waffles',
  'Moose',
  'Pickles',
  'Ziggy',
  'Olive',
  'Bear',
  'Rosie',
  'Tucker',
  'Mochi',
  'قمر',
  'Ginger',
] as const

export const SPECIES = { dog: '1', cat: '2', other: '3' } as const

/**
 * `/get_species`: the three the generator uses (as the API page documents them), and three more
 * that only animals added by a test carry, so that every pet type has a Gingr label to come from.
 */
export const SPECIES_LABELS: ReadonlyMap<string, string> = new Map([
  [SPECIES.dog, 'Dog'],
  [SPECIES.cat, 'Cat'],
  [SPECIES.other, 'Other'],
  ['4', 'Bird'],
  ['5', 'Rabbit'],
  ['6', 'Reptile'],
])

/** breed_id → name; dogs first, then cats, then the "other" species. */
export const BREEDS: ReadonlyMap<string, { name: string; species: string }> = new Map([
  ['11', { name: 'Labrador Retriever', species: SPECIES.dog }],
  ['12', { name: 'Golden Retriever', species: SPECIES.dog }],
  ['13', { name: 'German Shepherd', species: SPECIES.dog }],
  ['14', { name: 'French Bulldog', species: SPECIES.dog }],
  ['15', { name: 'Bernese Mountain Dog', species: SPECIES.dog }],
  ['16', { name: 'Mixed Breed', species: SPECIES.dog }],
  ['17', { name: 'Australian Shepherd', species: SPECIES.dog }],
  ['18', { name: 'Goldendoodle', species: SPECIES.dog }],
  ['21', { name: 'Domestic Shorthair', species: SPECIES.cat }],
  ['22', { name: 'Maine Coon', species: SPECIES.cat }],
  ['23', { name: 'Siamese', species: SPECIES.cat }],
  ['31', { name: 'Holland Lop Rabbit', species: SPECIES.other }],
  ['32', { name: 'Guinea Pig', species: SPECIES.other }],
  // Of the species no generated animal has (see SPECIES_LABELS): breedFor never picks them.
  ['41', { name: 'Cockatiel', species: '4' }],
  ['51', { name: 'Mini Rex', species: '5' }],
  ['61', { name: 'Leopard Gecko', species: '6' }],
])

export const COLORS = ['Black', 'Brindle', 'Tan', 'White', 'Merle', 'Tabby', 'Black & White', 'Cream'] as const

export const TEMPERAMENTS = ['Friendly', 'Shy at first', 'Reactive to large dogs', 'Very vocal', 'Calm'] as const

/** Plain, HTML, emoji, quoted and right-to-left notes, as front desks type them. */
export const NOTES = [
  'Picky eater, add warm water to kibble.',
  '<p>Owner will call on <b>Friday</b> to confirm pick up.</p>',
  '<ul><li>Meds at 8am</li><li>Meds at 6pm</li></ul>',
  'Loves belly rubs 🐶❤️ — do NOT let him near the pool!',
  'Mom says: "she\'s a little escape artist" – double-check gates.',
  'Allergic to chicken &amp; wheat; bring own food.',
  'مالكها يتحدث العربية فقط، يرجى الاتصال بابنها.',
  'הבעלים יאסוף בשעה 17:00',
  'Line one\r\nLine two\r\n\tindented line three',
  '<script>alert("not really")</script> copied from an old email',
  'Back-to-back stays; see previous reservation notes.',
  'Prefers the quiet wing 🤫',
] as const

export const MEDICINES = ['Apoquel 16mg AM', 'Rimadyl 75mg with food', 'Insulin 5 units 7am/7pm', 'Fish oil'] as const
export const ALLERGIES = ['Chicken', 'Beef, dairy', 'Bee stings', 'Penicillin'] as const

export const SERVICES = [
  { name: 'Nail Trim', cost: 15, minutes: 15 },
  { name: 'Bath Before Pickup', cost: 35, minutes: 60 },
  { name: 'Extra Playtime', cost: 12.5, minutes: 30 },
  { name: 'Medication Administration', cost: 5, minutes: 10 },
  { name: 'Blueberry Facial', cost: 9.99, minutes: 15 },
  { name: 'Enrichment Puzzle', cost: 7.25, minutes: 20 },
] as const

export type StayKind = 'boarding' | 'daycamp' | 'grooming' | 'training'

/** The account's reservation types: one inactive and one deleted type still referenced by stays. */
export const RESERVATION_TYPES: readonly (WireReservationType & { kind: StayKind; species: string })[] = [
  {
    id: '1',
    type: 'Boarding | Cat Cabana',
    status: '1',
    is_deleted: '0',
    description: 'Private cat condo',
    location_id: '1',
    kind: 'boarding',
    species: SPECIES.cat,
  },
  {
    id: '2',
    type: 'Boarding | Standard Run',
    status: '1',
    is_deleted: '0',
    description: null,
    location_id: '1',
    kind: 'boarding',
    species: SPECIES.dog,
  },
  {
    id: '3',
    type: 'Boarding | Indoor Suite',
    status: '1',
    is_deleted: '0',
    description: '<p>Suite with a raised bed &amp; webcam</p>',
    location_id: '1',
    kind: 'boarding',
    species: SPECIES.dog,
  },
  {
    id: '4',
    type: 'Day Camp | Full Day',
    status: '1',
    is_deleted: '0',
    description: 'Drop off by 9am',
    location_id: '1',
    kind: 'daycamp',
    species: SPECIES.dog,
  },
  {
    id: '5',
    type: 'Day Camp | Half Day',
    status: '1',
    is_deleted: '0',
    description: null,
    location_id: '1',
    kind: 'daycamp',
    species: SPECIES.dog,
  },
  {
    id: '6',
    type: 'Grooming | Bath',
    status: '1',
    is_deleted: '0',
    description: null,
    location_id: '1',
    kind: 'grooming',
    species: SPECIES.dog,
  },
  {
    id: '7',
    type: 'Grooming | Full Groom',
    status: '1',
    is_deleted: '0',
    description: '',
    location_id: '1',
    kind: 'grooming',
    species: SPECIES.dog,
  },
  {
    id: '8',
    type: 'Training | Puppy Class',
    status: '1',
    is_deleted: '0',
    description: 'Evening class, 6pm',
    location_id: '1',
    kind: 'training',
    species: SPECIES.dog,
  },
  {
    id: '9',
    type: 'Boarding | Luxury Suite',
    status: '0',
    is_deleted: '0',
    description: 'No longer offered',
    location_id: '1',
    kind: 'boarding',
    species: SPECIES.dog,
  },
  {
    id: '10',
    type: 'Day Camp | 10-Day Package (old)',
    status: '0',
    is_deleted: '1',
    description: null,
    location_id: '1',
    kind: 'daycamp',
    species: SPECIES.dog,
  },
]

/** About 30 KB of HTML: real front desks paste whole email threads into a reservation. */
export function longNote(index: number): string {
  const paragraph =
    `<p>Update ${index}: owner called again about the feeding schedule — “½ cup at 7am, ` +
    `¾ cup at 5pm”, no treats after 8pm. Please re-read the <a href="https://example.com/care">care sheet</a>.</p>\n`
  return `<div class="imported-email">\n${paragraph.repeat(150)}</div>`
}
