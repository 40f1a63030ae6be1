import postgres, { type TransactionSql } from 'postgres'
import { type CopyCell, copyIn, copyText } from './copy.ts'

/**
 * The set-based writes of one tenant's window. The window is first staged: COPY'd into four
 * temporary tables that die with the transaction. Then each entity is written by one statement
 * that reads its staged table, so the number of statements is fixed whatever the window's size,
 * and PostgreSQL, not a loop here, matches rows.
 * (COPY rather than one JSON parameter per statement: parsing 3 MB of jsonb took PostgreSQL longer
 * than all the writes, on every run, changed or not; COPY's text format is the cheapest input it has,
 * and the rows are streamed in slices instead of being held as one string.)
 *
 * The Tailtown schema's traps, handled here once:
 * - `id` and `"updatedAt"` have no database default: every insert supplies both.
 * - timestamps are `timestamp(3) without time zone` holding UTC wall time: values travel as ISO
 *   instants and are converted with `AT TIME ZONE 'UTC'`, which is right whatever the session zone.
 * - enum columns need explicit casts from text.
 * - `"updatedAt"` (Prisma's @updatedAt) is set to `now() AT TIME ZONE 'UTC'` by every write.
 * - there is no unique index on customers' or reservations' `"externalId"`, and production tables
 *   hold duplicates: lookups pick the oldest row deterministically, updates keep every duplicate
 *   consistent, and inserts happen only where no row stands for that Gingr id.
 */

export type ServiceCategory = 'BOARDING' | 'DAYCARE' | 'GROOMING' | 'TRAINING' | 'OTHER'
export type PetType = 'DOG' | 'CAT' | 'BIRD' | 'RABBIT' | 'REPTILE' | 'OTHER'
export type ReservationStatus = 'PENDING' | 'CONFIRMED' | 'CHECKED_IN' | 'CHECKED_OUT' | 'CANCELLED' | 'NO_SHOW' | 'COMPLETED'

export interface ServiceRow {
  externalId: string
  name: string
  category: ServiceCategory
  /** Minutes; the column is NOT NULL and Gingr's type carries no duration. */
  duration: number
}

export interface CustomerRow {
  externalId: string
  firstName: string
  lastName: string
  email: string | null
  phone: string | null
  address: string | null
  city: string | null
  state: string | null
}

export interface PetRow {
  externalId: string
  ownerExternalId: string
  name: string
  type: PetType
  breed: string | null
  notes: string | null
}

export interface ReservationRow {
  externalId: string
  customerExternalId: string
  petExternalId: string
  serviceExternalId: string
  serviceName: string
  startDate: Date
  endDate: Date
  status: ReservationStatus
  notes: string | null
  checkInDate: Date | null
  checkOutDate: Date | null
  cancelDate: Date | null
}

export interface WindowRows {
  services: ServiceRow[]
  customers: CustomerRow[]
  pets: PetRow[]
  reservations: ReservationRow[]
}

export interface WriteCounts {
  servicesCreated: number
  customersLinked: number
  customersCreated: number
  petsCreated: number
  reservationsCreated: number
  reservationsUpdated: number
}

/**
 * Writes one window inside the caller's transaction: one statement creating the staging tables,
 * a COPY per non-empty entity, five writes. Ten statements, whatever the window holds.
 */
export async function writeWindow(tx: TransactionSql, tenantId: string, rows: WindowRows): Promise<WriteCounts> {
  await stageWindow(tx, tenantId, rows)
  const servicesCreated = await blame(tenantId, rows, 'services', insertMissingServices(tx, tenantId, rows.services))
  const customersLinked = await blame(tenantId, rows, 'customers', linkCustomersByEmail(tx, tenantId, rows.customers))
  const customersCreated = await blame(tenantId, rows, 'customers', insertMissingCustomers(tx, tenantId, rows.customers))
  const petsCreated = await blame(tenantId, rows, 'pets', insertMissingPets(tx, tenantId, rows.pets))
  const { created, updated } = await blame(tenantId, rows, 'reservations', upsertReservations(tx, tenantId, rows.reservations))
  return { servicesCreated, customersLinked, customersCreated, petsCreated, reservationsCreated: created, reservationsUpdated: updated }
}

async function countOf(query: Promise<readonly { n: number }[]>): Promise<number> {
  const [row] = await query
  return row?.n ?? 0
}

/** A service is found by `"externalId"`, then by name, and reused; only the rest are created. */
function insertMissingServices(tx: TransactionSql, tenantId: string, services: ServiceRow[]): Promise<number> {
  if (services.length === 0) return Promise.resolve(0)
  return countOf(tx<{ n: number }[]>`
    WITH inserted AS (
      INSERT INTO services (id, "tenantId", name, duration, price, "serviceCategory", "externalId", "updatedAt")
      SELECT gen_random_uuid()::text, ${tenantId}, i.name, i.duration, 0, i.category::"ServiceCategory",
             i."externalId", (now() AT TIME ZONE 'UTC')
      FROM gingr_window_services i
      WHERE NOT EXISTS (
        SELECT 1 FROM services s
        WHERE s."tenantId" = ${tenantId} AND (s."externalId" = i."externalId" OR s.name = i.name)
      )
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM inserted`)
}

/**
 * An owner with no customer of its own yet, whose email an existing customer of the tenant holds
 * with no `"externalId"`, is that customer: link it (set its `"externalId"`) rather than create a
 * twin. Nothing else of the customer is touched. When several owners share the email, the lowest id
 * gets the link; the others become customers of their own with a placeholder email.
 */
function linkCustomersByEmail(tx: TransactionSql, tenantId: string, customers: CustomerRow[]): Promise<number> {
  if (customers.length === 0) return Promise.resolve(0)
  return linkStagedCustomersByEmail(tx, tenantId, 'gingr_window_customers').then((linked) => linked.length)
}

/**
 * The rule above, for the owners staged in `staging` (the hourly run's window, or the full sync's
 * every owner): one statement, the Gingr ids of the owners linked.
 */
export async function linkStagedCustomersByEmail(tx: TransactionSql, tenantId: string, staging: string): Promise<string[]> {
  const [row] = await tx<{ linked: string[] }[]>`
    WITH candidates AS (
      SELECT DISTINCT ON (lower(i.email)) i."externalId", lower(i.email) AS email
      FROM ${tx(staging)} i
      WHERE i.email IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM customers c WHERE c."tenantId" = ${tenantId} AND c."externalId" = i."externalId"
      )
      ORDER BY lower(i.email), length(i."externalId"), i."externalId"
    ), targets AS (
      SELECT DISTINCT ON (k.email) c.id, k."externalId"
      FROM candidates k
      JOIN customers c ON c."tenantId" = ${tenantId} AND lower(c.email) = k.email AND c."externalId" IS NULL
      ORDER BY k.email, c."createdAt", c.id
    ), linked AS (
      UPDATE customers c SET "externalId" = t."externalId", "updatedAt" = (now() AT TIME ZONE 'UTC')
      FROM targets t WHERE c.id = t.id
      RETURNING c."externalId"
    )
    SELECT coalesce(json_agg("externalId" ORDER BY "externalId"), '[]') AS linked FROM linked`
  return row?.linked ?? []
}

/**
 * Creates the owners that no customer stands for. The email is the owner's own unless it has none,
 * or another customer of the tenant already holds it (case-insensitively, which is stricter than the
 * unique index), or an owner with a lower id in this batch claims it: then a placeholder that can
 * never reach anyone, unique per owner. Placeholders live in `.invalid` (RFC 2606: reserved, never
 * delivered), where no owner's own address can be (src/sync/map.ts drops those): an owner whose
 * real email was another owner's placeholder broke UNIQUE ("tenantId", email) with 23505.
 */
function insertMissingCustomers(tx: TransactionSql, tenantId: string, customers: CustomerRow[]): Promise<number> {
  if (customers.length === 0) return Promise.resolve(0)
  return countOf(tx<{ n: number }[]>`
    WITH missing AS (
      SELECT i.*, row_number() OVER (PARTITION BY lower(i.email) ORDER BY length(i."externalId"), i."externalId") AS claim
      FROM gingr_window_customers i
      WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c."tenantId" = ${tenantId} AND c."externalId" = i."externalId")
    ), taken AS (
      SELECT lower(c.email) AS email FROM customers c WHERE c."tenantId" = ${tenantId} GROUP BY 1
    ), placed AS (
      -- (A volatile function keeps this CTE from being inlined: each row keeps the one id it drew.)
      SELECT m.*, gen_random_uuid()::text AS id, 'gingr-owner-' || m."externalId" || '@no-email.invalid' AS placeholder
      FROM missing m
    ), inserted AS (
      INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", phone, address, city, state, "externalId", "updatedAt")
      SELECT p.id, ${tenantId},
             CASE WHEN p.email IS NOT NULL AND p.claim = 1 AND own.email IS NULL THEN p.email
                  WHEN held.email IS NULL THEN p.placeholder
                  -- A customer already holds this owner's placeholder (one that lost its "externalId"
                  -- in Tailtown): the row's own id makes another that nothing can hold.
                  ELSE 'gingr-owner-' || p."externalId" || '-' || p.id || '@no-email.invalid' END,
             p."firstName", p."lastName", p.phone, p.address, p.city, p.state, p."externalId", (now() AT TIME ZONE 'UTC')
      FROM placed p
      LEFT JOIN taken own ON own.email = lower(p.email)
      LEFT JOIN taken held ON held.email = p.placeholder
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM inserted`)
}

/**
 * Creates the animals that no pet stands for, under their owner's customer. Older imports named a
 * Gingr animal `<id>-tailtown`: both forms count as the same animal.
 */
function insertMissingPets(tx: TransactionSql, tenantId: string, pets: PetRow[]): Promise<number> {
  if (pets.length === 0) return Promise.resolve(0)
  return countOf(tx<{ n: number }[]>`
    WITH owners AS (
      -- Duplicated customers exist: the oldest row stands for the owner.
      SELECT DISTINCT ON (c."externalId") c."externalId", c.id
      FROM customers c
      WHERE c."tenantId" = ${tenantId} AND c."externalId" IN (SELECT "ownerExternalId" FROM gingr_window_pets)
      ORDER BY c."externalId", c."createdAt", c.id
    ), inserted AS (
      INSERT INTO pets (id, "tenantId", name, type, breed, notes, "externalId", "customerId", "updatedAt")
      SELECT gen_random_uuid()::text, ${tenantId}, i.name, i.type::"PetType", i.breed, i.notes, i."externalId", o.id,
             (now() AT TIME ZONE 'UTC')
      FROM gingr_window_pets i
      LEFT JOIN owners o ON o."externalId" = i."ownerExternalId"
      -- Two anti-joins, not one with IN (a, b): PostgreSQL cannot hash a join on a list, and
      -- compared every window animal with every pet of the tenant (quadratic: 0.6 s at 2,700 pets).
      WHERE NOT EXISTS (SELECT 1 FROM pets p WHERE p."tenantId" = ${tenantId} AND p."externalId" = i."externalId")
        AND NOT EXISTS (SELECT 1 FROM pets p WHERE p."tenantId" = ${tenantId} AND p."externalId" = i."externalId" || '-tailtown')
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM inserted`)
}

/**
 * One statement: resolve each reservation's customer, pet and service, update the rows that stand for
 * it only where a synced column differs (every duplicate row alike), insert the ones with no row.
 * Unchanged rows are not written at all, so an hourly rerun leaves no dead tuples behind.
 * References are resolved as joins against sets, not a subquery per reservation: PostgreSQL can
 * then hash them (the per-row form cost 1.2 s at 50,000 reservations, changed or not).
 */
async function upsertReservations(tx: TransactionSql, tenantId: string, reservations: ReservationRow[]) {
  if (reservations.length === 0) return { created: 0, updated: 0 }
  const [row] = await tx<{ created: number; updated: number }[]>`
    WITH owners AS (
      -- Duplicated customers exist: the oldest row stands for the owner.
      SELECT DISTINCT ON (c."externalId") c."externalId", c.id
      FROM customers c
      WHERE c."tenantId" = ${tenantId} AND c."externalId" IN (SELECT "customerExternalId" FROM gingr_window_reservations)
      ORDER BY c."externalId", c."createdAt", c.id
    ), types AS (
      -- By Gingr id first, else by name; a window uses a handful of types, so one lookup per type.
      SELECT k."serviceExternalId", k."serviceName",
        (SELECT s.id FROM services s
         WHERE s."tenantId" = ${tenantId} AND (s."externalId" = k."serviceExternalId" OR s.name = k."serviceName")
         ORDER BY s."externalId" IS NOT DISTINCT FROM k."serviceExternalId" DESC, s."createdAt", s.id LIMIT 1) AS id
      FROM (SELECT DISTINCT "serviceExternalId", "serviceName" FROM gingr_window_reservations) k
    ), resolved AS (
      SELECT i."externalId",
        o.id AS "customerId",
        -- The animal's own id wins over the legacy <id>-tailtown form; ("tenantId", "externalId") is unique.
        coalesce(p.id, legacy.id) AS "petId",
        t.id AS "serviceId",
        i."startDate" AT TIME ZONE 'UTC' AS "startDate",
        i."endDate" AT TIME ZONE 'UTC' AS "endDate",
        i.status::"ReservationStatus" AS status,
        i.notes,
        i."checkInDate" AT TIME ZONE 'UTC' AS "checkInDate",
        i."checkOutDate" AT TIME ZONE 'UTC' AS "checkOutDate",
        i."cancelDate" AT TIME ZONE 'UTC' AS "cancelDate"
      FROM gingr_window_reservations i
      LEFT JOIN owners o ON o."externalId" = i."customerExternalId"
      LEFT JOIN pets p ON p."tenantId" = ${tenantId} AND p."externalId" = i."petExternalId"
      LEFT JOIN pets legacy ON legacy."tenantId" = ${tenantId} AND legacy."externalId" = i."petExternalId" || '-tailtown'
      LEFT JOIN types t ON t."serviceExternalId" = i."serviceExternalId" AND t."serviceName" = i."serviceName"
    ), updated AS (
      UPDATE reservations r SET
        "customerId" = x."customerId", "petId" = x."petId", "serviceId" = x."serviceId",
        "startDate" = x."startDate", "endDate" = x."endDate", status = x.status, notes = x.notes,
        "checkInDate" = x."checkInDate", "checkOutDate" = x."checkOutDate", "cancelDate" = x."cancelDate",
        "updatedAt" = (now() AT TIME ZONE 'UTC')
      FROM resolved x
      WHERE r."tenantId" = ${tenantId} AND r."externalId" = x."externalId"
        AND (r."customerId", r."petId", r."serviceId", r."startDate", r."endDate", r.status, r.notes,
             r."checkInDate", r."checkOutDate", r."cancelDate")
            IS DISTINCT FROM
            (x."customerId", x."petId", x."serviceId", x."startDate", x."endDate", x.status, x.notes,
             x."checkInDate", x."checkOutDate", x."cancelDate")
      RETURNING r."externalId"
    ), inserted AS (
      INSERT INTO reservations (id, "tenantId", "externalId", "customerId", "petId", "serviceId", "startDate",
                                "endDate", status, notes, "checkInDate", "checkOutDate", "cancelDate", "updatedAt")
      SELECT gen_random_uuid()::text, ${tenantId}, x."externalId", x."customerId", x."petId", x."serviceId",
             x."startDate", x."endDate", x.status, x.notes, x."checkInDate", x."checkOutDate", x."cancelDate",
             (now() AT TIME ZONE 'UTC')
      FROM resolved x
      WHERE NOT EXISTS (SELECT 1 FROM reservations r WHERE r."tenantId" = ${tenantId} AND r."externalId" = x."externalId")
      RETURNING 1
    )
    SELECT (SELECT count(*)::int FROM inserted) AS created,
           (SELECT count(DISTINCT "externalId")::int FROM updated) AS updated`
  return { created: row?.created ?? 0, updated: row?.updated ?? 0 }
}

type Cell = CopyCell
/** The staging table's column types, one per field of the row: a field cannot be forgotten. */
type Columns<Row> = { readonly [K in keyof Row]: 'text' | 'integer' | 'timestamptz' }

const STAGED: { [K in keyof WindowRows]: Columns<WindowRows[K][number]> } = {
  services: { externalId: 'text', name: 'text', category: 'text', duration: 'integer' },
  customers: {
    externalId: 'text',
    firstName: 'text',
    lastName: 'text',
    email: 'text',
    phone: 'text',
    address: 'text',
    city: 'text',
    state: 'text',
  },
  pets: { externalId: 'text', ownerExternalId: 'text', name: 'text', type: 'text', breed: 'text', notes: 'text' },
  reservations: {
    externalId: 'text',
    customerExternalId: 'text',
    petExternalId: 'text',
    serviceExternalId: 'text',
    serviceName: 'text',
    // timestamptz: the ISO instants COPY'd in keep their `Z`; `AT TIME ZONE 'UTC'` makes the wall time.
    startDate: 'timestamptz',
    endDate: 'timestamptz',
    status: 'text',
    notes: 'text',
    checkInDate: 'timestamptz',
    checkOutDate: 'timestamptz',
    cancelDate: 'timestamptz',
  },
}

const ENTITIES = Object.keys(STAGED) as (keyof WindowRows)[]

/** ON COMMIT DROP: a rolled-back or committed run leaves nothing behind, and the next tenant starts clean. */
const CREATE_STAGING = ENTITIES.map((entity) => {
  const columns = Object.entries(STAGED[entity])
    .map(([name, type]) => `"${name}" ${type}`)
    .join(', ')
  return `CREATE TEMPORARY TABLE gingr_window_${entity} (${columns}) ON COMMIT DROP;`
}).join('\n')

async function stage<Row extends Record<keyof Row, Cell>>(
  tx: TransactionSql,
  entity: keyof WindowRows,
  columns: Columns<Row>,
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return
  const names = Object.keys(columns) as (keyof Row & string)[]
  await copyIn(tx, `COPY gingr_window_${entity} (${names.map((name) => `"${name}"`).join(', ')}) FROM STDIN`, copyText(rows, names))
}

async function stageWindow(tx: TransactionSql, tenantId: string, rows: WindowRows): Promise<void> {
  // Several statements in one round trip: the simple protocol allows it (and takes no parameters).
  await tx.unsafe(CREATE_STAGING).simple()
  await blame(tenantId, rows, 'services', stage(tx, 'services', STAGED.services, rows.services))
  await blame(tenantId, rows, 'customers', stage(tx, 'customers', STAGED.customers, rows.customers))
  await blame(tenantId, rows, 'pets', stage(tx, 'pets', STAGED.pets, rows.pets))
  await blame(tenantId, rows, 'reservations', stage(tx, 'reservations', STAGED.reservations, rows.reservations))
}

/**
 * Validation (src/gingr/) keeps out every value known to be beyond the database, but Tailtown's
 * schema in production may hold a constraint or an index no one foresaw. When PostgreSQL refuses a
 * record (SQLSTATE class 22, a value; 23, a constraint; 54, an index row too large), its error is
 * made to name the Gingr record, so that the operator knows what to fix in Gingr. The error stays
 * PostgreSQL's own, code and all; only its message gains the name. Nothing is named for other
 * failures: a cancel also says the COPY line it stopped at, which says nothing about that record.
 */
async function blame<T>(tenantId: string, rows: WindowRows, entity: keyof WindowRows, write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (error) {
    if (!(error instanceof postgres.PostgresError) || !/^(22|23|54)/.test(error.code)) throw error
    const suspects = suspectsOf(error, tenantId, rows, entity)
    // More than a few matches is a coincidence of values, not a record.
    if (suspects.length > 0 && suspects.length <= 3) error.message = `${error.message} (${gingrNames(rows, suspects)})`
    throw error
  }
}

/** A staged row PostgreSQL's error points at, by its entity and Gingr id. */
interface Suspect {
  entity: keyof WindowRows
  externalId: string
}

/**
 * The rows an error points at:
 * - a COPY error's context is `COPY gingr_window_<entity>, line <n>, ...`: the n-th staged row, exactly;
 * - a statement's error detail quotes values, `Key (cols)=(values) already exists.` or `Failing row
 *   contains (values).`: the rows of the statement's entity whose Gingr id (or email, which UNIQUE
 *   ("tenantId", email) quotes) is one of them;
 * - `index row size <n> exceeds btree version 4 maximum 2704 for index "..."` quotes nothing, but
 *   only a value about that long makes such a row (compression only shrinks it): the rows whose id
 *   or email is. Rows of an index on some other column match none.
 */
function suspectsOf(error: postgres.PostgresError, tenantId: string, rows: WindowRows, entity: keyof WindowRows): Suspect[] {
  const copied = /^COPY gingr_window_(\w+), line (\d+)/.exec(error.where ?? '')
  if (copied) {
    const staged = ENTITIES.find((name) => name === copied[1])
    const row = staged === undefined ? undefined : rows[staged][Number(copied[2]) - 1]
    return staged === undefined || row === undefined ? [] : [{ entity: staged, externalId: row.externalId }]
  }
  const quotable =
    entity === 'customers'
      ? rows.customers.map((c) => ({ externalId: c.externalId, values: [c.externalId, c.email] }))
      : rows[entity].map((r) => ({ externalId: r.externalId, values: [r.externalId] }))
  const matching = (test: (value: string) => boolean): Suspect[] =>
    quotable
      .filter((row) => row.values.some((value) => value !== null && test(value)))
      .map((row) => ({ entity, externalId: row.externalId }))

  const indexRow = /^index row size (\d+) exceeds/.exec(error.message)
  if (indexRow) {
    // The row also holds "tenantId" and a few dozen bytes of headers and padding.
    const least = Number(indexRow[1]) - Buffer.byteLength(tenantId) - 32
    return matching((value) => Buffer.byteLength(value) >= least)
  }
  const quoted = /(?:=|contains )\((.*)\)/s.exec(error.detail ?? '')?.[1]
  if (quoted === undefined) return []
  const values = new Set(quoted.split(', '))
  // Every key and row of the tenant quotes its id, which may look like a Gingr id.
  values.delete(tenantId)
  return matching((value) => values.has(value))
}

const GINGR_NOUNS: Record<keyof WindowRows, string> = {
  services: 'reservation type',
  customers: 'owner',
  pets: 'animal',
  reservations: 'reservation',
}

/** `Gingr reservation 6905`, or `Gingr owner 455, in reservation 6905`: the record Gingr's staff can open. */
function gingrNames(rows: WindowRows, suspects: readonly Suspect[]): string {
  return suspects
    .map((suspect) => {
      const name = `Gingr ${GINGR_NOUNS[suspect.entity]} ${clipId(suspect.externalId)}`
      if (suspect.entity === 'reservations') return name
      const id = suspect.externalId
      const carrier = rows.reservations.find((r) =>
        suspect.entity === 'services'
          ? r.serviceExternalId === id
          : suspect.entity === 'customers'
            ? r.customerExternalId === id
            : r.petExternalId === id,
      )
      return carrier === undefined ? name : `${name}, in reservation ${clipId(carrier.externalId)}`
    })
    .join(' or ')
}

/** The record may be refused for its very id, thousands of digits long: the log gets the start of it. */
function clipId(id: string): string {
  return id.length > 24 ? `${id.slice(0, 20)}… (${id.length.toLocaleString('en-US')} characters)` : id
}
