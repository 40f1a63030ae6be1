import { missingSchema, type Queryable, type Sql } from './connect.ts'
import { ENUMS, GINGR_SYNC_TABLES, indexName, isAddable, RUNS_INDEX, RUNS_TABLE, TAILTOWN_TABLES, type TableDefinition } from './schema.ts'

/** Any constant shared by every gingr-sync: two migrates at once queue instead of colliding. */
const MIGRATE_LOCK = 0x67696e67 // "ging"

/**
 * Creates what is missing, object by object, in one transaction: Tailtown's tables, enum types
 * and values, columns and indexes, then gingr-sync's run history. It never alters, drops or
 * retypes an existing column, and never adds a unique index or foreign key to an existing table
 * (production rows may violate them): those come only with a table it creates itself.
 */
export async function migrate(sql: Sql): Promise<{ created: string[] }> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`
    const created: string[] = []
    const catalog = await readCatalog(tx)
    // A table of that name without a column Tailtown always has is someone else's: change nothing.
    const foreign = foreignTables(catalog)
    if (foreign.length > 0) {
      throw new Error(
        `This is not Tailtown's schema (${foreign.join('; ')}): migrate changed nothing. Check that DATABASE_URL names the Tailtown database.`,
      )
    }
    for (const [type, values] of Object.entries(ENUMS)) {
      created.push(...(await ensureEnum(tx, catalog, type, values)))
    }
    for (const table of [...TAILTOWN_TABLES, ...GINGR_SYNC_TABLES]) {
      created.push(...(await ensureTable(tx, catalog, table)))
    }
    if (!catalog.indexes.some((index) => index.name === RUNS_INDEX)) {
      await tx.unsafe(`CREATE INDEX IF NOT EXISTS "${RUNS_INDEX}" ON "${RUNS_TABLE.name}" ("tenant_id", "started_at" DESC)`)
      created.push(`index ${RUNS_INDEX}`)
    }
    return { created }
  })
}

const RUN_MIGRATE = 'run `gingr-sync migrate`'

/** What stops a sync against this database, one sentence each; empty when the schema is fine. */
export async function checkSchema(sql: Queryable): Promise<string[]> {
  // Then every table would be "missing", and migrate could create none of them.
  const path = await missingSchema(sql)
  if (path !== undefined) {
    return [
      `No schema of the search path (${path}) exists in this database: check ?schema= in DATABASE_URL, or create the schema (CREATE SCHEMA); migrate creates none.`,
    ]
  }
  const catalog = await readCatalog(sql)
  const problems: string[] = []
  // The writes stage each window in temporary tables (src/db/writes.ts). PUBLIC may create them by
  // default, but a hardened database can have revoked it.
  const [temp] = await sql<{ allowed: boolean; role: string; database: string }[]>`
    SELECT has_database_privilege(current_database(), 'TEMPORARY') AS allowed, current_user AS role, current_database() AS database`
  if (temp && !temp.allowed) {
    problems.push(
      `The role ${temp.role} may not create temporary tables, which the sync stages each window in: GRANT TEMPORARY ON DATABASE "${temp.database}" TO "${temp.role}".`,
    )
  }
  // What the sync reads and writes, table by table: a role with less passes every other check and
  // fails every run (and cannot even record that it failed).
  const denied = await sql<{ table: string; privilege: string; role: string }[]>`
    SELECT t.name AS table, p.privilege, current_user AS role
    FROM (VALUES ('tenants', 'SELECT,UPDATE'), ('reservations', 'SELECT,INSERT,UPDATE'), ('customers', 'SELECT,INSERT,UPDATE'),
                 ('pets', 'SELECT,INSERT,UPDATE'), ('services', 'SELECT,INSERT'), ('gingr_sync_runs', 'SELECT,INSERT'),
                 ('gingr_sync_tenants', 'SELECT,INSERT,UPDATE')) AS t(name, privileges),
         unnest(string_to_array(t.privileges, ',')) AS p(privilege)
    WHERE to_regclass(quote_ident(t.name)) IS NOT NULL AND NOT has_table_privilege(quote_ident(t.name), p.privilege)
    ORDER BY t.name, p.privilege`
  const [sequence] = await sql<{ denied: boolean; role: string }[]>`
    SELECT to_regclass('gingr_sync_runs_id_seq') IS NOT NULL AND NOT has_sequence_privilege('gingr_sync_runs_id_seq', 'USAGE') AS denied,
      current_user AS role`
  if (sequence?.denied) {
    problems.push(
      `The role ${sequence.role} may not use gingr_sync_runs_id_seq, which recording a run needs: GRANT USAGE ON SEQUENCE gingr_sync_runs_id_seq TO "${sequence.role}".`,
    )
  }
  for (const [table, rows] of Map.groupBy(denied, (row) => row.table)) {
    const privileges = rows.map((row) => row.privilege).join(', ')
    problems.push(
      `The role ${rows[0]?.role} may not ${privileges} on ${table}, which the sync needs: GRANT ${privileges} ON ${table} TO "${rows[0]?.role}".`,
    )
  }
  for (const [type, values] of Object.entries(ENUMS)) {
    const present = catalog.enums.get(type)
    if (!present) {
      problems.push(`The enum type "${type}" is missing: ${RUN_MIGRATE}.`)
      continue
    }
    const missing = values.filter((value) => !present.has(value))
    if (missing.length > 0) problems.push(`The enum type "${type}" lacks ${missing.join(', ')}: ${RUN_MIGRATE}.`)
  }
  for (const table of [...TAILTOWN_TABLES, ...GINGR_SYNC_TABLES]) {
    const columns = catalog.columns.get(table.name)
    if (!columns) {
      problems.push(`The table ${table.name} is missing: ${RUN_MIGRATE}.`)
      continue
    }
    for (const [column, type] of Object.entries(table.columns)) {
      if (columns.has(column)) continue
      problems.push(
        isAddable(type)
          ? `The column ${table.name}."${column}" is missing: ${RUN_MIGRATE}.`
          : `The column ${table.name}."${column}" is missing, and migrate adds no required column to an existing table: this is not Tailtown's schema.`,
      )
    }
  }
  return problems
}

/** Existing tables of Tailtown's names that lack a column migrate would never add (a required one). */
function foreignTables(catalog: Catalog): string[] {
  return TAILTOWN_TABLES.flatMap((table) => {
    const existing = catalog.columns.get(table.name)
    if (!existing) return []
    const lacking = Object.entries(table.columns).filter(([column, type]) => !existing.has(column) && !isAddable(type))
    return lacking.length === 0 ? [] : [`${table.name} lacks ${lacking.map(([column]) => `"${column}"`).join(', ')}`]
  })
}

interface Catalog {
  enums: Map<string, Set<string>>
  /** Table name → its column names, for the tables of the current schema. */
  columns: Map<string, Set<string>>
  indexes: { name: string; table: string; columns: (string | null)[] }[]
}

/** Everything migrate and checkSchema need, in the schema unqualified names resolve to. */
async function readCatalog(sql: Queryable): Promise<Catalog> {
  const [enumRows, columnRows, indexRows] = await Promise.all([
    sql<{ type: string; value: string | null }[]>`
      SELECT t.typname AS type, e.enumlabel AS value
      FROM pg_type t
      JOIN pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = current_schema() AND t.typtype = 'e'`,
    sql<{ table: string; column: string }[]>`
      SELECT c.relname AS table, a.attname AS column
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`,
    // Expression columns come back as NULL, so they never pass for a plain column. Partial
    // indexes are left out: they do not serve every lookup. (json: arrays are not parsed, see connect.)
    sql<{ name: string; table: string; columns: (string | null)[] }[]>`
      SELECT ix.relname AS name, t.relname AS table,
             json_agg(a.attname ORDER BY k.ord) AS columns
      FROM pg_index i
      JOIN pg_class ix ON ix.oid = i.indexrelid
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
      WHERE n.nspname = current_schema() AND i.indpred IS NULL
      GROUP BY ix.relname, t.relname`,
  ])
  const enums = new Map<string, Set<string>>()
  for (const { type, value } of enumRows) {
    const values = enums.get(type) ?? new Set<string>()
    if (value !== null) values.add(value)
    enums.set(type, values)
  }
  const columns = new Map<string, Set<string>>()
  for (const { table, column } of columnRows) {
    columns.set(table, (columns.get(table) ?? new Set<string>()).add(column))
  }
  return { enums, columns, indexes: [...indexRows] }
}

async function ensureEnum(tx: Queryable, catalog: Catalog, type: string, values: readonly string[]): Promise<string[]> {
  const present = catalog.enums.get(type)
  if (!present) {
    // CREATE TYPE has no IF NOT EXISTS: the catalog read under the lock is the check.
    await tx.unsafe(`CREATE TYPE "${type}" AS ENUM (${values.map(literal).join(', ')})`)
    return [`type "${type}"`]
  }
  const created: string[] = []
  for (const value of values.filter((candidate) => !present.has(candidate))) {
    // Allowed in a transaction since PostgreSQL 12; the value is only unusable until commit.
    await tx.unsafe(`ALTER TYPE "${type}" ADD VALUE IF NOT EXISTS ${literal(value)}`)
    created.push(`value "${type}".${value}`)
  }
  return created
}

async function ensureTable(tx: Queryable, catalog: Catalog, table: TableDefinition): Promise<string[]> {
  const existing = catalog.columns.get(table.name)
  if (!existing) {
    await createTable(tx, table)
    return [`table ${table.name}`]
  }
  const created: string[] = []
  for (const [column, type] of Object.entries(table.columns)) {
    if (existing.has(column) || !isAddable(type)) continue
    await tx.unsafe(`ALTER TABLE "${table.name}" ADD COLUMN IF NOT EXISTS "${column}" ${type}`)
    created.push(`column ${table.name}."${column}"`)
  }
  for (const columns of table.indexes ?? []) {
    const covered = catalog.indexes.some((index) => index.table === table.name && leadsWith(index.columns, columns))
    if (covered) continue
    const name = indexName(table.name, columns, false)
    await tx.unsafe(`CREATE INDEX IF NOT EXISTS "${name}" ON "${table.name}" (${quoteAll(columns)})`)
    created.push(`index ${name}`)
  }
  return created
}

/** A new, empty table: it gets its unique indexes and foreign keys too, as Prisma would make them. */
async function createTable(tx: Queryable, table: TableDefinition): Promise<void> {
  const columns = Object.entries({ ...table.columns, ...table.extras }).map(([name, type]) => `"${name}" ${type}`)
  // Tailtown's ids are named constraints, as Prisma makes them; the run history declares its own.
  const inlineKey = Object.values(table.columns).some((type) => /PRIMARY KEY/i.test(type))
  if (!inlineKey) columns.push(`CONSTRAINT "${table.name}_pkey" PRIMARY KEY ("id")`)
  await tx.unsafe(`CREATE TABLE IF NOT EXISTS "${table.name}" (\n  ${columns.join(',\n  ')}\n)`)
  for (const unique of table.unique ?? []) {
    await tx.unsafe(`CREATE UNIQUE INDEX IF NOT EXISTS "${indexName(table.name, unique, true)}" ON "${table.name}" (${quoteAll(unique)})`)
  }
  for (const columns of table.indexes ?? []) {
    await tx.unsafe(`CREATE INDEX IF NOT EXISTS "${indexName(table.name, columns, false)}" ON "${table.name}" (${quoteAll(columns)})`)
  }
  for (const { column, references, onDelete } of table.foreignKeys ?? []) {
    await tx.unsafe(`ALTER TABLE "${table.name}" ADD CONSTRAINT "${table.name}_${column}_fkey" FOREIGN KEY ("${column}")
      REFERENCES "${references}"("id") ON DELETE ${onDelete} ON UPDATE CASCADE`)
  }
}

function leadsWith(indexColumns: (string | null)[], wanted: string[]): boolean {
  return wanted.every((column, i) => indexColumns[i] === column)
}

function quoteAll(columns: string[]): string {
  return columns.map((column) => `"${column}"`).join(', ')
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}
