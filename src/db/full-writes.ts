import postgres, { type TransactionSql } from 'postgres'
import { type CopyCell, copyIn, copyText } from './copy.ts'
import { linkStagedCustomersByEmail, type PetType } from './writes.ts'

/**
 * The set-based writes of a full sync: every owner and animal Gingr lists, written in the
 * tenant's transaction by a fixed handful of statements whatever the account's size. As in
 * writes.ts, the batch is first COPY'd into temporary tables that die with the transaction, then
 * each step is one statement that PostgreSQL plans as joins over those sets.
 *
 * The rules (docs/target-schema.md, issue 13):
 * - customers are found by `"externalId"`, else linked by email exactly as the hourly run links
 *   them (writes.ts's linkStagedCustomersByEmail), else created with writes.ts's email and placeholder
 *   rules. Existing ones are written only where a Gingr-owned column differs; `notes` is filled
 *   only where Tailtown's is empty. An email another customer of the tenant holds (case-
 *   insensitively) is not taken: the customer keeps its own, and the owner is reported.
 * - pets are found by `"externalId"` or the legacy `<id>-tailtown` (both, when both exist: each
 *   is kept consistent), never created twice; moved to the owner's customer; core columns
 *   written where they differ; notes and medical columns filled only where Tailtown's are empty,
 *   since staff curate them.
 * - duplicated customers (no unique index on `"externalId"`): every row of the owner is kept
 *   consistent, except the email, which UNIQUE ("tenantId", email) lets one row hold: the oldest,
 *   the one that stands for the owner everywhere else (pets point at it).
 * - unchanged rows are not written at all: an unchanged rerun leaves every xmin as it was.
 * - the owners and animals Gingr no longer lists are found (and deactivated only when asked).
 */

export type Gender = 'MALE' | 'FEMALE' | 'UNKNOWN'

/** A Gingr owner as the columns of its customer. */
export interface FullCustomerRow {
  externalId: string
  firstName: string
  lastName: string
  /** Null when the owner has no usable email: an existing customer keeps its own. */
  email: string | null
  phone: string | null
  alternatePhone: string | null
  address: string | null
  city: string | null
  state: string | null
  zipCode: string | null
  emergencyContact: string | null
  emergencyPhone: string | null
  /** Only fills an empty Tailtown note. */
  notes: string | null
}

/** A Gingr animal as the columns of its pet. */
export interface FullPetRow {
  externalId: string
  ownerExternalId: string
  name: string
  type: PetType
  breed: string | null
  /** Gingr names a breed its look-up does not list: Tailtown's breed stays as it is. */
  keepBreed: boolean
  color: string | null
  gender: Gender
  /** Midnight UTC of the birthday. */
  birthdate: Date | null
  weight: number | null
  microchipNumber: string | null
  isNeutered: boolean
  isVip: boolean
  /** These five only fill Tailtown's empty ones. */
  notes: string | null
  foodNotes: string | null
  medicationNotes: string | null
  allergies: string | null
  behaviorNotes: string | null
}

export interface FullRows {
  customers: FullCustomerRow[]
  pets: FullPetRow[]
  /** Ids of the records Gingr listed that failed validation: listed, so never "no longer in Gingr". */
  unreadable: { owners: string[]; animals: string[] }
}

export interface FullWriteCounts {
  customersCreated: number
  /** Gingr owner ids whose customer was found by email and linked. */
  customersLinked: string[]
  /** Gingr owner ids whose customer rows were written (linked or updated), each once. */
  customersWritten: string[]
  /** Gingr owner ids whose new email another customer holds: the customer kept its own. */
  emailConflicts: string[]
  petsCreated: number
  /** Gingr animal ids whose pet rows were updated, each once. */
  petsUpdated: number
  /** Gingr animal ids with no pet and no customer for their owner: nothing to make the pet under. */
  petsWithoutOwner: string[]
}

/** What Tailtown holds that Gingr no longer lists: active rows only, by Gingr id. */
export interface MissingRows {
  customers: string[]
  pets: string[]
  /** The tenant's active rows with a Gingr id: what the deactivation guard measures against. */
  activeCustomers: number
  activePets: number
}

/**
 * Writes the batch inside the caller's transaction: the staging (one statement and two COPYs),
 * then link, create and update customers, create and update pets: eight statements, whatever the
 * account's size (findMissing and deactivate are one more each).
 */
export async function writeFull(tx: TransactionSql, tenantId: string, rows: FullRows): Promise<FullWriteCounts> {
  await stageFull(tx, rows)
  // The hourly run's rule, the same statement (writes.ts).
  const customersLinked = await blame(rows, 'customers', linkStagedCustomersByEmail(tx, tenantId, 'gingr_full_customers'))
  const created = new Set(await blame(rows, 'customers', insertMissingCustomers(tx, tenantId)))
  const { updated, conflicts } = await blame(rows, 'customers', updateCustomers(tx, tenantId))
  const { created: petsCreated, withoutOwner } = await blame(rows, 'pets', insertMissingPets(tx, tenantId))
  const petsUpdated = await blame(rows, 'pets', updatePets(tx, tenantId))
  return {
    customersCreated: created.size,
    customersLinked,
    // Owners, not rows: a customer made in this run is created, whatever the update then touched,
    // so that created, written and unchanged add up to the owners Gingr listed.
    customersWritten: [...new Set([...customersLinked, ...updated])].filter((id) => !created.has(id)).sort(),
    emailConflicts: conflicts,
    petsCreated,
    petsUpdated,
    petsWithoutOwner: withoutOwner,
  }
}

/**
 * The hourly refresh of changed owners (`/new_modified_owners`): the customers that stand for
 * them are updated with the full sync's rules, in the caller's transaction; an owner with no
 * customer is left to the reservations that bring it (or the next full sync). Three statements.
 */
export async function refreshCustomers(
  tx: TransactionSql,
  tenantId: string,
  customers: FullCustomerRow[],
): Promise<{ updated: string[]; conflicts: string[] }> {
  const rows: FullRows = { customers, pets: [], unreadable: { owners: [], animals: [] } }
  await tx.unsafe(CREATE_STAGING).simple()
  await blame(rows, 'customers', stage(tx, 'customers', customers))
  return blame(rows, 'customers', updateCustomers(tx, tenantId))
}

/**
 * Creates the owners no customer stands for, with writes.ts's email rules: the owner's own email
 * unless it has none, another customer holds it (case-insensitively) or an owner with a lower id
 * in this batch claims it; then the `.invalid` placeholder, unique per owner.
 */
async function insertMissingCustomers(tx: TransactionSql, tenantId: string): Promise<string[]> {
  const [row] = await tx<{ created: string[] }[]>`
    WITH missing AS (
      SELECT i.*, row_number() OVER (PARTITION BY lower(i.email) ORDER BY length(i."externalId"), i."externalId") AS claim
      FROM gingr_full_customers i
      WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c."tenantId" = ${tenantId} AND c."externalId" = i."externalId")
    ), taken AS (
      SELECT lower(c.email) AS email FROM customers c WHERE c."tenantId" = ${tenantId} GROUP BY 1
    ), placed AS (
      -- (A volatile function keeps this CTE from being inlined: each row keeps the one id it drew.)
      SELECT m.*, gen_random_uuid()::text AS id, 'gingr-owner-' || m."externalId" || '@no-email.invalid' AS placeholder
      FROM missing m
    ), inserted AS (
      INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", phone, "alternatePhone", address, city, state,
                             "zipCode", "emergencyContact", "emergencyPhone", notes, "externalId", "updatedAt")
      SELECT p.id, ${tenantId},
             CASE WHEN p.email IS NOT NULL AND p.claim = 1 AND own.email IS NULL THEN p.email
                  WHEN held.email IS NULL THEN p.placeholder
                  ELSE 'gingr-owner-' || p."externalId" || '-' || p.id || '@no-email.invalid' END,
             p."firstName", p."lastName", p.phone, p."alternatePhone", p.address, p.city, p.state,
             p."zipCode", p."emergencyContact", p."emergencyPhone", p.notes, p."externalId", (now() AT TIME ZONE 'UTC')
      FROM placed p
      LEFT JOIN taken own ON own.email = lower(p.email)
      LEFT JOIN taken held ON held.email = p.placeholder
      RETURNING "externalId"
    )
    SELECT coalesce(json_agg(DISTINCT "externalId"), '[]') AS created FROM inserted`
  return row?.created ?? []
}

/** `gingr-owner-<id>@no-email.invalid` and its `-<uuid>` form: the placeholders writes.ts hands out. */
const PLACEHOLDER = 'gingr-owner-%@no-email.invalid'

/**
 * Updates the customers of listed owners where a Gingr-owned column differs, in one statement.
 * The email: taken only when no other customer of the tenant holds it (case-insensitively, as the
 * inserts judge it) and no owner with a lower id claims it too, and only on the oldest row of the
 * owner; else the customer keeps its own and the owner is reported, unless its own is a
 * placeholder: an owner sharing its email in Gingr has one by design, and says so every run.
 * (A swap of two emails in one run is a conflict too, and lands on the next run: UNIQUE
 * ("tenantId", email) is checked row by row, so taking an email still held is never tried.)
 */
async function updateCustomers(tx: TransactionSql, tenantId: string): Promise<{ updated: string[]; conflicts: string[] }> {
  const [row] = await tx<{ updated: string[]; conflicts: string[] }[]>`
    WITH canonical AS (
      SELECT DISTINCT ON (c."externalId") c."externalId", c.id, c.email
      FROM customers c
      JOIN gingr_full_customers s ON s."externalId" = c."externalId"
      WHERE c."tenantId" = ${tenantId}
      ORDER BY c."externalId", c."createdAt", c.id
    ), claims AS (
      SELECT k.id, k."externalId", s.email, k.email AS current,
             row_number() OVER (PARTITION BY lower(s.email) ORDER BY length(s."externalId"), s."externalId") AS claim
      FROM canonical k
      JOIN gingr_full_customers s ON s."externalId" = k."externalId"
      WHERE s.email IS NOT NULL AND s.email IS DISTINCT FROM k.email
    ), taken AS (
      SELECT lower(c.email) AS email, count(*) AS n
      FROM customers c
      WHERE c."tenantId" = ${tenantId} AND lower(c.email) IN (SELECT lower(email) FROM claims)
      GROUP BY 1
    ), decided AS (
      -- Free: nobody holds it, or only this very customer does, in another case.
      SELECT m.*, (m.claim = 1 AND (t.n IS NULL OR (t.n = 1 AND lower(m.current) = lower(m.email)))) AS free
      FROM claims m
      LEFT JOIN taken t ON t.email = lower(m.email)
    ), updated AS (
      UPDATE customers c SET
        "firstName" = s."firstName", "lastName" = s."lastName",
        email = CASE WHEN d.free AND d.id = c.id THEN s.email ELSE c.email END,
        phone = s.phone, "alternatePhone" = s."alternatePhone", address = s.address, city = s.city, state = s.state,
        "zipCode" = s."zipCode", "emergencyContact" = s."emergencyContact", "emergencyPhone" = s."emergencyPhone",
        notes = CASE WHEN coalesce(btrim(c.notes), '') = '' AND s.notes IS NOT NULL THEN s.notes ELSE c.notes END,
        "updatedAt" = (now() AT TIME ZONE 'UTC')
      FROM gingr_full_customers s
      LEFT JOIN decided d ON d."externalId" = s."externalId"
      WHERE c."tenantId" = ${tenantId} AND c."externalId" = s."externalId"
        AND ((c."firstName", c."lastName", c.phone, c."alternatePhone", c.address, c.city, c.state, c."zipCode",
              c."emergencyContact", c."emergencyPhone")
             IS DISTINCT FROM
             (s."firstName", s."lastName", s.phone, s."alternatePhone", s.address, s.city, s.state, s."zipCode",
              s."emergencyContact", s."emergencyPhone")
          OR (d.free AND d.id = c.id)
          OR (coalesce(btrim(c.notes), '') = '' AND s.notes IS NOT NULL))
      RETURNING c."externalId"
    )
    SELECT coalesce((SELECT json_agg(DISTINCT "externalId") FROM updated), '[]') AS updated,
           coalesce((SELECT json_agg("externalId" ORDER BY "externalId") FROM decided
                     WHERE NOT free AND current NOT LIKE ${PLACEHOLDER}), '[]') AS conflicts`
  return { updated: row?.updated ?? [], conflicts: row?.conflicts ?? [] }
}

/**
 * Creates the animals no pet stands for (by either form of id), under the oldest customer of
 * their owner. An animal whose owner has no customer (its owner's record was invalid) cannot be
 * made: it is returned, and comes in a later run.
 */
async function insertMissingPets(tx: TransactionSql, tenantId: string): Promise<{ created: number; withoutOwner: string[] }> {
  const [row] = await tx<{ created: number; withoutOwner: string[] }[]>`
    WITH owners AS (
      SELECT DISTINCT ON (c."externalId") c."externalId", c.id
      FROM customers c
      WHERE c."tenantId" = ${tenantId} AND c."externalId" IN (SELECT "ownerExternalId" FROM gingr_full_pets)
      ORDER BY c."externalId", c."createdAt", c.id
    ), fresh AS MATERIALIZED (
      SELECT i.*, o.id AS "customerId"
      FROM gingr_full_pets i
      LEFT JOIN owners o ON o."externalId" = i."ownerExternalId"
      -- Two anti-joins, not one on IN (a, b), which PostgreSQL cannot hash (see writes.ts).
      WHERE NOT EXISTS (SELECT 1 FROM pets p WHERE p."tenantId" = ${tenantId} AND p."externalId" = i."externalId")
        AND NOT EXISTS (SELECT 1 FROM pets p WHERE p."tenantId" = ${tenantId} AND p."externalId" = i."externalId" || '-tailtown')
    ), inserted AS (
      INSERT INTO pets (id, "tenantId", name, type, breed, color, gender, birthdate, weight, "microchipNumber",
                        "isNeutered", "isVip", notes, "foodNotes", "medicationNotes", allergies, "behaviorNotes",
                        "externalId", "customerId", "updatedAt")
      SELECT gen_random_uuid()::text, ${tenantId}, f.name, f.type::"PetType", f.breed, f.color, f.gender::"Gender",
             f.birthdate AT TIME ZONE 'UTC', f.weight, f."microchipNumber", f."isNeutered", f."isVip",
             f.notes, f."foodNotes", f."medicationNotes", f.allergies, f."behaviorNotes",
             f."externalId", f."customerId", (now() AT TIME ZONE 'UTC')
      FROM fresh f
      WHERE f."customerId" IS NOT NULL
      RETURNING 1
    )
    SELECT (SELECT count(*)::int FROM inserted) AS created,
           coalesce((SELECT json_agg("externalId" ORDER BY "externalId") FROM fresh WHERE "customerId" IS NULL), '[]') AS "withoutOwner"`
  return { created: row?.created ?? 0, withoutOwner: row?.withoutOwner ?? [] }
}

/**
 * Updates every pet that stands for a listed animal (its own id, the legacy `-tailtown` one, or
 * both) where a core column differs or an empty note can be filled. A pet whose owner has no
 * customer stays with the one it has.
 */
async function updatePets(tx: TransactionSql, tenantId: string): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    WITH owners AS (
      SELECT DISTINCT ON (c."externalId") c."externalId", c.id
      FROM customers c
      WHERE c."tenantId" = ${tenantId} AND c."externalId" IN (SELECT "ownerExternalId" FROM gingr_full_pets)
      ORDER BY c."externalId", c."createdAt", c.id
    ), targets AS (
      SELECT p.id, i."externalId" FROM gingr_full_pets i
      JOIN pets p ON p."tenantId" = ${tenantId} AND p."externalId" = i."externalId"
      UNION ALL
      SELECT p.id, i."externalId" FROM gingr_full_pets i
      JOIN pets p ON p."tenantId" = ${tenantId} AND p."externalId" = i."externalId" || '-tailtown'
    ), wanted AS (
      SELECT t.id, i."externalId", i.name, i.type::"PetType" AS type, i.breed, i."keepBreed", i.color,
             i.gender::"Gender" AS gender, i.birthdate AT TIME ZONE 'UTC' AS birthdate, i.weight, i."microchipNumber",
             i."isNeutered", i."isVip", i.notes, i."foodNotes", i."medicationNotes", i.allergies, i."behaviorNotes",
             o.id AS "customerId"
      FROM targets t
      JOIN gingr_full_pets i ON i."externalId" = t."externalId"
      LEFT JOIN owners o ON o."externalId" = i."ownerExternalId"
    ), updated AS (
      UPDATE pets p SET
        name = w.name, type = w.type, breed = CASE WHEN w."keepBreed" THEN p.breed ELSE w.breed END,
        color = w.color, gender = w.gender, birthdate = w.birthdate, weight = w.weight,
        "microchipNumber" = w."microchipNumber", "isNeutered" = w."isNeutered", "isVip" = w."isVip",
        "customerId" = coalesce(w."customerId", p."customerId"),
        notes = CASE WHEN coalesce(btrim(p.notes), '') = '' THEN coalesce(w.notes, p.notes) ELSE p.notes END,
        "foodNotes" = CASE WHEN coalesce(btrim(p."foodNotes"), '') = '' THEN coalesce(w."foodNotes", p."foodNotes") ELSE p."foodNotes" END,
        "medicationNotes" = CASE WHEN coalesce(btrim(p."medicationNotes"), '') = ''
                                 THEN coalesce(w."medicationNotes", p."medicationNotes") ELSE p."medicationNotes" END,
        allergies = CASE WHEN coalesce(btrim(p.allergies), '') = '' THEN coalesce(w.allergies, p.allergies) ELSE p.allergies END,
        "behaviorNotes" = CASE WHEN coalesce(btrim(p."behaviorNotes"), '') = ''
                               THEN coalesce(w."behaviorNotes", p."behaviorNotes") ELSE p."behaviorNotes" END,
        "updatedAt" = (now() AT TIME ZONE 'UTC')
      FROM wanted w
      WHERE p.id = w.id
        AND ((p.name, p.type, p.breed, p.color, p.gender, p.birthdate, p.weight, p."microchipNumber", p."isNeutered",
              p."isVip", p."customerId")
             IS DISTINCT FROM
             (w.name, w.type, CASE WHEN w."keepBreed" THEN p.breed ELSE w.breed END, w.color, w.gender, w.birthdate,
              w.weight, w."microchipNumber", w."isNeutered", w."isVip", coalesce(w."customerId", p."customerId"))
          OR (coalesce(btrim(p.notes), '') = '' AND w.notes IS NOT NULL)
          OR (coalesce(btrim(p."foodNotes"), '') = '' AND w."foodNotes" IS NOT NULL)
          OR (coalesce(btrim(p."medicationNotes"), '') = '' AND w."medicationNotes" IS NOT NULL)
          OR (coalesce(btrim(p.allergies), '') = '' AND w.allergies IS NOT NULL)
          OR (coalesce(btrim(p."behaviorNotes"), '') = '' AND w."behaviorNotes" IS NOT NULL))
      RETURNING w."externalId"
    )
    SELECT count(DISTINCT "externalId")::int AS n FROM updated`
  return row?.n ?? 0
}

/**
 * One statement: the tenant's active customers and pets with a Gingr id that Gingr no longer
 * lists (a legacy `<id>-tailtown` pet is animal `<id>`), and how many active ones there are.
 * Run after writeFull, on its staging tables.
 */
export async function findMissing(tx: TransactionSql, tenantId: string, rows: FullRows): Promise<MissingRows> {
  const [row] = await tx<MissingRows[]>`
    WITH customers_gone AS (
      SELECT DISTINCT c."externalId" FROM customers c
      WHERE c."tenantId" = ${tenantId} AND c."isActive" AND c."externalId" IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM gingr_full_customers s WHERE s."externalId" = c."externalId")
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(${tx.json(rows.unreadable.owners)}) AS u(id) WHERE u.id = c."externalId")
    ), pets_gone AS (
      SELECT DISTINCT regexp_replace(p."externalId", '-tailtown$', '') AS "externalId" FROM pets p
      WHERE p."tenantId" = ${tenantId} AND p."isActive" AND p."externalId" IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM gingr_full_pets s WHERE s."externalId" = regexp_replace(p."externalId", '-tailtown$', ''))
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(${tx.json(rows.unreadable.animals)}) AS u(id)
                        WHERE u.id = regexp_replace(p."externalId", '-tailtown$', ''))
    )
    SELECT coalesce((SELECT json_agg("externalId" ORDER BY "externalId") FROM customers_gone), '[]') AS customers,
           coalesce((SELECT json_agg("externalId" ORDER BY "externalId") FROM pets_gone), '[]') AS pets,
           (SELECT count(*)::int FROM customers WHERE "tenantId" = ${tenantId} AND "isActive" AND "externalId" IS NOT NULL) AS "activeCustomers",
           (SELECT count(*)::int FROM pets WHERE "tenantId" = ${tenantId} AND "isActive" AND "externalId" IS NOT NULL) AS "activePets"`
  return row ?? { customers: [], pets: [], activeCustomers: 0, activePets: 0 }
}

/**
 * Sets `"isActive" = false` on the customers and pets of the Gingr ids given (findMissing's, as
 * the guard let through), in one statement; rows are kept, since reservations point at them.
 * Returns the rows written.
 */
export async function deactivate(
  tx: TransactionSql,
  tenantId: string,
  ids: { customers: readonly string[]; pets: readonly string[] },
): Promise<{ customers: number; pets: number }> {
  const [row] = await tx<{ customers: number; pets: number }[]>`
    WITH customers_off AS (
      UPDATE customers SET "isActive" = false, "updatedAt" = (now() AT TIME ZONE 'UTC')
      WHERE "tenantId" = ${tenantId} AND "isActive"
        AND "externalId" IN (SELECT jsonb_array_elements_text(${tx.json(ids.customers as string[])}))
      RETURNING 1
    ), pets_off AS (
      UPDATE pets SET "isActive" = false, "updatedAt" = (now() AT TIME ZONE 'UTC')
      WHERE "tenantId" = ${tenantId} AND "isActive"
        AND regexp_replace("externalId", '-tailtown$', '') IN (SELECT jsonb_array_elements_text(${tx.json(ids.pets as string[])}))
      RETURNING 1
    )
    SELECT (SELECT count(*)::int FROM customers_off) AS customers, (SELECT count(*)::int FROM pets_off) AS pets`
  return row ?? { customers: 0, pets: 0 }
}

type Columns<Row> = { readonly [K in keyof Row]: 'text' | 'boolean' | 'double precision' | 'timestamptz' }

const STAGED = {
  customers: {
    externalId: 'text',
    firstName: 'text',
    lastName: 'text',
    email: 'text',
    phone: 'text',
    alternatePhone: 'text',
    address: 'text',
    city: 'text',
    state: 'text',
    zipCode: 'text',
    emergencyContact: 'text',
    emergencyPhone: 'text',
    notes: 'text',
  },
  pets: {
    externalId: 'text',
    ownerExternalId: 'text',
    name: 'text',
    type: 'text',
    breed: 'text',
    keepBreed: 'boolean',
    color: 'text',
    gender: 'text',
    // An ISO instant at midnight UTC; `AT TIME ZONE 'UTC'` makes the wall time whatever the session's zone.
    birthdate: 'timestamptz',
    weight: 'double precision',
    microchipNumber: 'text',
    isNeutered: 'boolean',
    isVip: 'boolean',
    notes: 'text',
    foodNotes: 'text',
    medicationNotes: 'text',
    allergies: 'text',
    behaviorNotes: 'text',
  },
} as const satisfies { customers: Columns<FullCustomerRow>; pets: Columns<FullPetRow> }

type Entity = keyof typeof STAGED

/**
 * ON COMMIT DROP: nothing is left behind. (No ANALYZE: without statistics PostgreSQL still hashes
 * every join here; 11,826 owners and 18,469 animals write in about a second, measured.)
 */
const CREATE_STAGING = (Object.keys(STAGED) as Entity[])
  .map((entity) => {
    const columns = Object.entries(STAGED[entity])
      .map(([name, type]) => `"${name}" ${type}`)
      .join(', ')
    return `CREATE TEMPORARY TABLE gingr_full_${entity} (${columns}) ON COMMIT DROP;`
  })
  .join('\n')

async function stageFull(tx: TransactionSql, rows: FullRows): Promise<void> {
  await tx.unsafe(CREATE_STAGING).simple()
  await blame(rows, 'customers', stage(tx, 'customers', rows.customers))
  await blame(rows, 'pets', stage(tx, 'pets', rows.pets))
}

/** Even an empty list is copied: a run sends the same statements whatever Gingr answered. */
async function stage<Row extends Record<keyof Row, CopyCell>>(tx: TransactionSql, entity: Entity, rows: readonly Row[]): Promise<void> {
  const names = Object.keys(STAGED[entity]) as (keyof Row & string)[]
  await copyIn(tx, `COPY gingr_full_${entity} (${names.map((name) => `"${name}"`).join(', ')}) FROM STDIN`, copyText(rows, names))
}

/**
 * As writes.ts's blame(): when PostgreSQL refuses a record (a value, a constraint, an index row
 * too large), its error names the Gingr owner or animal, for the operator to fix in Gingr; it
 * stays PostgreSQL's own error, code and all.
 */
async function blame<T>(rows: FullRows, entity: Entity, write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (error) {
    if (!(error instanceof postgres.PostgresError) || !/^(22|23|54)/.test(error.code)) throw error
    const suspects = suspectsOf(error, rows, entity)
    if (suspects.length > 0 && suspects.length <= 3) error.message = `${error.message} (${suspects.join(' or ')})`
    throw error
  }
}

const NOUNS: Record<Entity, string> = { customers: 'owner', pets: 'animal' }

function suspectsOf(error: postgres.PostgresError, rows: FullRows, entity: Entity): string[] {
  const name = (staged: Entity, id: string) => `Gingr ${NOUNS[staged]} ${id.length > 24 ? `${id.slice(0, 20)}…` : id}`
  const copied = /^COPY gingr_full_(\w+), line (\d+)/.exec(error.where ?? '')
  if (copied) {
    const staged = copied[1] === 'customers' || copied[1] === 'pets' ? copied[1] : undefined
    const row = staged === undefined ? undefined : rows[staged][Number(copied[2]) - 1]
    return staged === undefined || row === undefined ? [] : [name(staged, row.externalId)]
  }
  const quoted = /(?:=|contains )\((.*)\)/s.exec(error.detail ?? '')?.[1]
  if (quoted === undefined) return []
  const values = new Set(quoted.split(', '))
  const records: { externalId: string; values: (string | null)[] }[] =
    entity === 'customers'
      ? rows.customers.map((c) => ({ externalId: c.externalId, values: [c.externalId, c.email] }))
      : rows.pets.map((p) => ({ externalId: p.externalId, values: [p.externalId, p.microchipNumber] }))
  // The Gingr id quoted is the record; an email or microchip quoted may be shared by several (spouses).
  const byId = records.filter((r) => values.has(r.externalId))
  const matched = byId.length > 0 ? byId : records.filter((r) => r.values.some((value) => value !== null && values.has(value)))
  return matched.map((r) => name(entity, r.externalId))
}
