/**
 * `migrate` on an empty database, a second time, concurrently, and on a production-like Tailtown
 * database it must leave as it is; `checkSchema` on what stops a sync.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect, type Queryable, type Sql } from '../src/db/connect.ts'
import { checkSchema, migrate } from '../src/db/migrate.ts'
import { freshDatabase, type TestDatabase } from './_db.ts'
import { insertCustomer, insertDuplicateReservations, insertPet, insertService, insertTenant } from './fixtures/tailtown.ts'
import { tailtownDdl } from './fixtures/tailtown-ddl.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const databases: TestDatabase[] = []
afterAll(() => Promise.all(databases.map((database) => database.drop())))

async function database(): Promise<TestDatabase> {
  const created = await freshDatabase()
  databases.push(created)
  return created
}

/**
 * The set-up shared by a group's tests, made once, by whichever test needs it first. Every test
 * of the file is independent of the others' (each group has a database of its own), so they all
 * run side by side; a beforeAll would hold each group's tests until the group before had ended.
 */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined
  return () => {
    made ??= make()
    return made
  }
}

interface ColumnFact {
  table: string
  column: string
  type: string
  notNull: boolean
  default: string | null
}

/** Every column of every table, as the catalog has it: what "changes no column" is checked against. */
async function columns(sql: Queryable): Promise<ColumnFact[]> {
  return [
    ...(await sql<ColumnFact[]>`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS "notNull", pg_get_expr(d.adbin, d.adrelid) AS default
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    ORDER BY 1, 2`),
  ]
}

async function indexes(sql: Queryable): Promise<Map<string, string>> {
  const rows = await sql<{ name: string; definition: string }[]>`
    SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public'`
  return new Map(rows.map((row) => [row.name, row.definition]))
}

async function constraints(sql: Queryable): Promise<Map<string, string>> {
  const rows = await sql<{ name: string; definition: string }[]>`
    SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace`
  return new Map(rows.map((row) => [row.name, row.definition]))
}

describe.concurrent('on an empty database', () => {
  const migrated = once(async () => {
    const db = await database()
    return { db, created: (await migrate(db.sql)).created }
  })

  test('creates every enum type and table, then its own run history', async () => {
    const { created } = await migrated()
    expect(created.filter((item) => /^(type|table) /.test(item))).toEqual([
      'type "TenantStatus"',
      'type "ReservationStatus"',
      'type "PetType"',
      'type "ServiceCategory"',
      'type "Gender"',
      'type "ContactMethod"',
      'table tenants',
      'table customers',
      'table pets',
      'table services',
      'table reservations',
      'table gingr_sync_runs',
      'table gingr_sync_tenants',
    ])
    expect(created).toContain('index gingr_sync_runs_tenant_started_idx')
  })

  test.each([
    // Prisma's conventions: ids without a default, createdAt defaulted, updatedAt not.
    { table: 'tenants', column: 'id', type: 'text', notNull: true, default: null },
    { table: 'customers', column: 'createdAt', type: 'timestamp(3) without time zone', notNull: true, default: 'CURRENT_TIMESTAMP' },
    { table: 'customers', column: 'updatedAt', type: 'timestamp(3) without time zone', notNull: true, default: null },
    { table: 'customers', column: 'tenantId', type: 'text', notNull: true, default: `'dev'::text` },
    { table: 'customers', column: 'preferredContact', type: '"ContactMethod"', notNull: true, default: `'EMAIL'::"ContactMethod"` },
    { table: 'customers', column: 'tags', type: 'text[]', notNull: false, default: 'ARRAY[]::text[]' },
    { table: 'tenants', column: 'status', type: '"TenantStatus"', notNull: true, default: `'TRIAL'::"TenantStatus"` },
    { table: 'tenants', column: 'gingr_sync_enabled', type: 'boolean', notNull: true, default: 'false' },
    { table: 'tenants', column: 'last_gingr_sync_at', type: 'timestamp(3) without time zone', notNull: false, default: null },
    { table: 'tenants', column: 'timezone', type: 'text', notNull: true, default: `'America/New_York'::text` },
    { table: 'pets', column: 'type', type: '"PetType"', notNull: true, default: null },
    { table: 'pets', column: 'weight', type: 'double precision', notNull: false, default: null },
    { table: 'reservations', column: 'startDate', type: 'timestamp(3) without time zone', notNull: true, default: null },
    { table: 'reservations', column: 'status', type: '"ReservationStatus"', notNull: true, default: `'PENDING'::"ReservationStatus"` },
    { table: 'services', column: 'serviceCategory', type: '"ServiceCategory"', notNull: true, default: null },
    { table: 'gingr_sync_runs', column: 'started_at', type: 'timestamp with time zone', notNull: true, default: null },
    { table: 'gingr_sync_runs', column: 'window_from', type: 'date', notNull: false, default: null },
  ])('$table.$column is $type', async (expected) => {
    const { db } = await migrated()
    const found = (await columns(db.sql)).find((fact) => fact.table === expected.table && fact.column === expected.column)
    expect(found).toEqual(expected)
  })

  test.each([
    ['tenants_subdomain_key', true],
    ['tenants_contactEmail_key', true],
    ['customers_tenantId_email_key', true],
    ['customers_tenantId_id_key', true],
    ['pets_tenantId_externalId_key', true],
    ['reservations_tenantId_orderNumber_key', true],
    ['reservations_tenantId_id_key', true],
    ['reservations_tenantId_externalId_idx', false],
    ['customers_tenantId_externalId_idx', false],
    ['services_tenantId_externalId_idx', false],
    ['gingr_sync_runs_tenant_started_idx', false],
  ] as const)('index %s (unique: %p)', async (name, unique) => {
    const { db } = await migrated()
    const definition = (await indexes(db.sql)).get(name)
    expect(definition).toBeDefined()
    expect(definition?.startsWith('CREATE UNIQUE INDEX')).toBe(unique)
  })

  test.each([
    ['pets_customerId_fkey', 'FOREIGN KEY ("customerId") REFERENCES customers(id) ON UPDATE CASCADE ON DELETE CASCADE'],
    ['reservations_customerId_fkey', 'FOREIGN KEY ("customerId") REFERENCES customers(id) ON UPDATE CASCADE ON DELETE RESTRICT'],
    ['reservations_petId_fkey', 'FOREIGN KEY ("petId") REFERENCES pets(id) ON UPDATE CASCADE ON DELETE RESTRICT'],
    ['reservations_serviceId_fkey', 'FOREIGN KEY ("serviceId") REFERENCES services(id) ON UPDATE CASCADE ON DELETE RESTRICT'],
    ['tenants_pkey', 'PRIMARY KEY (id)'],
  ])('constraint %s', async (name, definition) => {
    const { db } = await migrated()
    expect((await constraints(db.sql)).get(name)).toBe(definition)
  })

  test('enum values are in Prisma order', async () => {
    const { db } = await migrated()
    const rows = await db.sql<{ values: string[] }[]>`
      SELECT json_agg(enumlabel ORDER BY enumsortorder) AS values FROM pg_enum WHERE enumtypid = '"ReservationStatus"'::regtype`
    expect(rows[0]?.values).toEqual(['PENDING', 'CONFIRMED', 'CHECKED_IN', 'CHECKED_OUT', 'CANCELLED', 'NO_SHOW', 'COMPLETED'])
  })

  test('an insert without "updatedAt" fails, as it does on Prisma\'s schema', async () => {
    const { db } = await migrated()
    await expect(
      db.sql`INSERT INTO services (id, name, duration, price, "serviceCategory") VALUES ('s', 'Day', 60, 0, 'DAYCARE')`,
    ).rejects.toThrow(/updatedAt/)
  })

  test('checkSchema finds nothing to complain about', async () => {
    const { db } = await migrated()
    expect(await checkSchema(db.sql)).toEqual([])
  })

  // Beside the group's other tests, which only read the catalog: a second run that changed it would fail them too.
  test('a second run creates nothing and changes nothing', async () => {
    const { db } = await migrated()
    const before = { columns: await columns(db.sql), indexes: await indexes(db.sql), constraints: await constraints(db.sql) }
    expect(await migrate(db.sql)).toEqual({ created: [] })
    expect({ columns: await columns(db.sql), indexes: await indexes(db.sql), constraints: await constraints(db.sql) }).toEqual(before)
  })
})

test.concurrent('two migrates at once: one creates, the other waits and finds everything there', async () => {
  const reference = await database()
  const everything = (await migrate(reference.sql)).created
  const db = await database()
  const other = connect(db.url)
  try {
    const results = await Promise.all([migrate(db.sql), migrate(other)])
    expect(results.flatMap((result) => result.created).sort()).toEqual([...everything].sort())
  } finally {
    await other.end()
  }
})

describe.concurrent('on an existing Tailtown database', () => {
  const migrated = once(async () => {
    const db = await database()
    await db.sql.unsafe(tailtownDdl())
    const tenantId = await insertTenant(db.sql)
    const customerId = await insertCustomer(db.sql, { tenantId, email: 'pat@example.test' })
    const petId = await insertPet(db.sql, { tenantId, customerId, externalId: '5001-tailtown' })
    const serviceId = await insertService(db.sql, { tenantId, name: 'Boarding' })
    const duplicates = await insertDuplicateReservations(db.sql, { tenantId, customerId, petId, serviceId, externalId: '90001' })
    const before = { columns: await columns(db.sql), indexes: await indexes(db.sql), constraints: await constraints(db.sql) }
    return { db, before, duplicates, created: (await migrate(db.sql)).created }
  })

  test('adds only its own objects, and no index where one already serves', async () => {
    const { created } = await migrated()
    // customers already has ("tenantId", "externalId", email), reservations Tailtown's own index.
    expect(created).toEqual([
      'index services_tenantId_externalId_idx',
      'table gingr_sync_runs',
      'table gingr_sync_tenants',
      'index gingr_sync_runs_tenant_started_idx',
    ])
  })

  test("changes none of Tailtown's columns, indexes or constraints", async () => {
    const { db, before } = await migrated()
    const after = await columns(db.sql)
    expect(after.filter((fact) => !fact.table.startsWith('gingr_sync_'))).toEqual(before.columns)
    const afterIndexes = await indexes(db.sql)
    for (const [name, definition] of before.indexes) expect(afterIndexes.get(name)).toBe(definition)
    const afterConstraints = await constraints(db.sql)
    for (const [name, definition] of before.constraints) expect(afterConstraints.get(name)).toBe(definition)
  })

  test('the duplicate reservations are still there, and no unique index forbids them', async () => {
    const { db, duplicates } = await migrated()
    const rows = await db.sql<{ id: string }[]>`SELECT id FROM reservations WHERE "externalId" = '90001' ORDER BY "createdAt"`
    expect(rows.map((row) => row.id)).toEqual(duplicates)
    const unique = [...(await indexes(db.sql)).values()].filter((definition) => /UNIQUE.*reservations.*"externalId"/.test(definition))
    expect(unique).toEqual([])
  })

  test('checkSchema is satisfied, and a second run creates nothing', async () => {
    const { db } = await migrated()
    expect(await checkSchema(db.sql)).toEqual([])
    expect(await migrate(db.sql)).toEqual({ created: [] })
  })
})

describe.concurrent('checkSchema', () => {
  const RUN = 'run `gingr-sync migrate`'
  const cases: { name: string; prepare: (sql: Sql) => Promise<unknown>; problems: string[]; afterMigrate: string[] }[] = [
    {
      name: 'an empty database',
      prepare: async () => {},
      problems: [
        ...['TenantStatus', 'ReservationStatus', 'PetType', 'ServiceCategory', 'Gender', 'ContactMethod'].map(
          (type) => `The enum type "${type}" is missing: ${RUN}.`,
        ),
        ...['tenants', 'customers', 'pets', 'services', 'reservations', 'gingr_sync_runs', 'gingr_sync_tenants'].map(
          (table) => `The table ${table} is missing: ${RUN}.`,
        ),
      ],
      afterMigrate: [],
    },
    {
      name: 'Tailtown without gingr-sync',
      prepare: (sql) => sql.unsafe(tailtownDdl()),
      problems: [`The table gingr_sync_runs is missing: ${RUN}.`, `The table gingr_sync_tenants is missing: ${RUN}.`],
      afterMigrate: [],
    },
    {
      name: 'an older Tailtown: no sync columns, fewer reservation statuses',
      prepare: (sql) => sql.unsafe(tailtownDdl({ legacy: true })),
      problems: [
        `The enum type "ReservationStatus" lacks NO_SHOW, COMPLETED: ${RUN}.`,
        `The column tenants."gingr_sync_enabled" is missing: ${RUN}.`,
        `The column tenants."last_gingr_sync_at" is missing: ${RUN}.`,
        `The table gingr_sync_runs is missing: ${RUN}.`,
        `The table gingr_sync_tenants is missing: ${RUN}.`,
      ],
      afterMigrate: [],
    },
    {
      name: 'a column sync writes was dropped',
      prepare: async (sql) => {
        await migrate(sql)
        await sql`ALTER TABLE customers DROP COLUMN "externalId"`
      },
      problems: [`The column customers."externalId" is missing: ${RUN}.`],
      afterMigrate: [],
    },
    {
      name: 'a required column is missing, which migrate cannot add',
      prepare: async (sql) => {
        await migrate(sql)
        await sql`ALTER TABLE reservations DROP COLUMN "startDate"`
      },
      problems: [
        `The column reservations."startDate" is missing, and migrate adds no required column to an existing table: this is not Tailtown's schema.`,
      ],
      afterMigrate: [
        `The column reservations."startDate" is missing, and migrate adds no required column to an existing table: this is not Tailtown's schema.`,
      ],
    },
  ]

  test.each(cases)('$name', async ({ prepare, problems, afterMigrate }) => {
    const db = await database()
    await prepare(db.sql)
    expect(await checkSchema(db.sql)).toEqual(problems)
    // A table that lacks a column Tailtown always has is not Tailtown's: migrate changes nothing there.
    const refused = problems.some((problem) => problem.includes("this is not Tailtown's schema"))
    if (refused) {
      expect(migrate(db.sql)).rejects.toThrow(
        /^This is not Tailtown's schema \(reservations lacks "startDate"\): migrate changed nothing\./,
      )
    } else {
      await migrate(db.sql)
    }
    expect(await checkSchema(db.sql)).toEqual(afterMigrate)
  })
})

test.concurrent('checkSchema names the grant when the role may not create the temporary tables the writes stage in', async () => {
  const db = await database()
  await migrate(db.sql)
  const role = `gingr_sync_notemp_${process.pid}`
  const password = 'notemp-pw-1'
  await db.sql.unsafe(`DROP ROLE IF EXISTS ${role}`)
  await db.sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  // Everything the sync needs but the temporary tables.
  await db.sql.unsafe(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`)
  await db.sql.unsafe(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`)
  await db.sql.unsafe(`REVOKE TEMPORARY ON DATABASE "${db.name}" FROM PUBLIC`)
  const url = new URL(db.url)
  url.username = role
  url.password = password
  const restricted = connect(url.toString(), { max: 1 })
  try {
    expect(await checkSchema(restricted)).toEqual([
      `The role ${role} may not create temporary tables, which the sync stages each window in: GRANT TEMPORARY ON DATABASE "${db.name}" TO "${role}".`,
    ])
  } finally {
    await restricted.end({ timeout: 5 })
    await db.sql.unsafe(`DROP OWNED BY ${role}`)
    await db.sql.unsafe(`DROP ROLE IF EXISTS ${role}`)
    await db.drop()
  }
})
