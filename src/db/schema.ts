/**
 * The part of Tailtown's schema gingr-sync touches, as Prisma's migrations create it
 * (docs/target-schema.md), plus gingr-sync's own run history. `migrate` builds from this
 * definition and `checkSchema` checks against it, so the two cannot drift apart.
 *
 * Column types are the SQL that follows the column's name in CREATE TABLE. Prisma's conventions:
 * TEXT ids without a default (the application makes them), TIMESTAMP(3) WITHOUT TIME ZONE holding
 * UTC wall time, `"updatedAt"` NOT NULL without a default, quoted enum types.
 */

export const ENUMS = {
  TenantStatus: ['TRIAL', 'ACTIVE', 'PAUSED', 'CANCELLED', 'DELETED', 'PENDING'],
  ReservationStatus: ['PENDING', 'CONFIRMED', 'CHECKED_IN', 'CHECKED_OUT', 'CANCELLED', 'NO_SHOW', 'COMPLETED'],
  PetType: ['DOG', 'CAT', 'BIRD', 'RABBIT', 'REPTILE', 'OTHER'],
  ServiceCategory: ['DAYCARE', 'BOARDING', 'GROOMING', 'TRAINING', 'OTHER'],
  Gender: ['MALE', 'FEMALE', 'UNKNOWN'],
  ContactMethod: ['EMAIL', 'SMS', 'BOTH', 'NONE'],
} as const satisfies Record<string, readonly string[]>

export interface ForeignKey {
  column: string
  references: string
  onDelete: 'CASCADE' | 'RESTRICT'
}

export interface TableDefinition {
  name: string
  /** Columns sync reads or writes: checked by `checkSchema`, added to an existing table when safe. */
  columns: Record<string, string>
  /** Other NOT NULL columns (all with defaults), made with a new table only: sync never names them. */
  extras?: Record<string, string>
  /** Made with a new (empty) table only: on an existing table they could fail on duplicates. */
  unique?: string[][]
  /** Non-unique: made on an existing table too, unless an index already leads with these columns. */
  indexes?: string[][]
  /** Made with a new (empty) table only: existing rows could violate them. */
  foreignKeys?: ForeignKey[]
}

const TEXT = 'TEXT'
const REQUIRED_TEXT = 'TEXT NOT NULL'
const TIMESTAMP = 'TIMESTAMP(3)'
const CREATED_AT = 'TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP'
const UPDATED_AT = 'TIMESTAMP(3) NOT NULL'
const TENANT_ID = `TEXT NOT NULL DEFAULT 'dev'`
const IS_ACTIVE = 'BOOLEAN NOT NULL DEFAULT true'

/** In creation order: a table's foreign keys point only to tables before it. */
export const TAILTOWN_TABLES: TableDefinition[] = [
  {
    name: 'tenants',
    columns: {
      id: REQUIRED_TEXT,
      businessName: REQUIRED_TEXT,
      subdomain: REQUIRED_TEXT,
      contactName: REQUIRED_TEXT,
      contactEmail: REQUIRED_TEXT,
      status: `"TenantStatus" NOT NULL DEFAULT 'TRIAL'`,
      isActive: IS_ACTIVE,
      gingr_sync_enabled: 'BOOLEAN NOT NULL DEFAULT false',
      last_gingr_sync_at: TIMESTAMP,
      timezone: `TEXT NOT NULL DEFAULT 'America/New_York'`,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    },
    unique: [['subdomain'], ['contactEmail']],
  },
  {
    name: 'customers',
    columns: {
      id: REQUIRED_TEXT,
      tenantId: TENANT_ID,
      email: REQUIRED_TEXT,
      firstName: REQUIRED_TEXT,
      lastName: REQUIRED_TEXT,
      phone: TEXT,
      alternatePhone: TEXT,
      address: TEXT,
      city: TEXT,
      state: TEXT,
      zipCode: TEXT,
      notes: TEXT,
      emergencyContact: TEXT,
      emergencyPhone: TEXT,
      externalId: TEXT,
      isActive: IS_ACTIVE,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    },
    extras: {
      preferredContact: `"ContactMethod" NOT NULL DEFAULT 'EMAIL'`,
      tags: 'TEXT[] DEFAULT ARRAY[]::TEXT[]',
      portalEnabled: 'BOOLEAN NOT NULL DEFAULT true',
    },
    unique: [
      ['tenantId', 'email'],
      ['tenantId', 'id'],
    ],
    // gingr-sync's own: owners are looked up by Gingr id on every run.
    indexes: [['tenantId', 'externalId']],
  },
  {
    name: 'pets',
    columns: {
      id: REQUIRED_TEXT,
      tenantId: TENANT_ID,
      name: REQUIRED_TEXT,
      type: `"PetType" NOT NULL`,
      breed: TEXT,
      color: TEXT,
      birthdate: TIMESTAMP,
      weight: 'DOUBLE PRECISION',
      gender: `"Gender"`,
      isNeutered: 'BOOLEAN NOT NULL DEFAULT false',
      microchipNumber: TEXT,
      notes: TEXT,
      foodNotes: TEXT,
      medicationNotes: TEXT,
      behaviorNotes: TEXT,
      allergies: TEXT,
      externalId: TEXT,
      isVip: 'BOOLEAN NOT NULL DEFAULT false',
      isActive: IS_ACTIVE,
      customerId: REQUIRED_TEXT,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    },
    unique: [['tenantId', 'externalId']],
    foreignKeys: [{ column: 'customerId', references: 'customers', onDelete: 'CASCADE' }],
  },
  {
    name: 'services',
    columns: {
      id: REQUIRED_TEXT,
      tenantId: TENANT_ID,
      name: REQUIRED_TEXT,
      duration: 'INTEGER NOT NULL',
      price: 'DOUBLE PRECISION NOT NULL',
      serviceCategory: `"ServiceCategory" NOT NULL`,
      isActive: IS_ACTIVE,
      externalId: TEXT,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    },
    // gingr-sync's own: reservation types are looked up by Gingr id on every run.
    indexes: [['tenantId', 'externalId']],
  },
  {
    name: 'reservations',
    columns: {
      id: REQUIRED_TEXT,
      tenantId: TENANT_ID,
      orderNumber: TEXT,
      startDate: `${TIMESTAMP} NOT NULL`,
      endDate: `${TIMESTAMP} NOT NULL`,
      status: `"ReservationStatus" NOT NULL DEFAULT 'PENDING'`,
      notes: TEXT,
      checkInDate: TIMESTAMP,
      checkOutDate: TIMESTAMP,
      cancelDate: TIMESTAMP,
      cancelReason: TEXT,
      externalId: TEXT,
      customerId: REQUIRED_TEXT,
      petId: REQUIRED_TEXT,
      serviceId: REQUIRED_TEXT,
      resourceId: TEXT,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    },
    unique: [
      ['tenantId', 'orderNumber'],
      ['tenantId', 'id'],
    ],
    // Tailtown's own, deliberately not unique: production tables already hold duplicates.
    indexes: [['tenantId', 'externalId']],
    foreignKeys: [
      { column: 'customerId', references: 'customers', onDelete: 'RESTRICT' },
      { column: 'petId', references: 'pets', onDelete: 'RESTRICT' },
      { column: 'serviceId', references: 'services', onDelete: 'RESTRICT' },
    ],
  },
]

/** One row per tenant per run: what `status` reports and what operators grep when a run fails. */
export const RUNS_TABLE: TableDefinition = {
  name: 'gingr_sync_runs',
  columns: {
    id: 'BIGSERIAL PRIMARY KEY',
    // Which job ran (src/db/runs.ts): added to an older table with its default, since every row
    // before it was an hourly run.
    kind: `TEXT NOT NULL DEFAULT 'reservations' CHECK (kind IN ('reservations', 'full'))`,
    tenant_id: 'TEXT NOT NULL',
    started_at: 'TIMESTAMPTZ NOT NULL',
    finished_at: 'TIMESTAMPTZ NOT NULL',
    dry_run: 'BOOLEAN NOT NULL DEFAULT false',
    status: `TEXT NOT NULL CHECK (status IN ('synced', 'failed'))`,
    window_from: 'DATE',
    window_to: 'DATE',
    fetched: 'INTEGER NOT NULL DEFAULT 0',
    created: 'INTEGER NOT NULL DEFAULT 0',
    updated: 'INTEGER NOT NULL DEFAULT 0',
    unchanged: 'INTEGER NOT NULL DEFAULT 0',
    skipped: 'INTEGER NOT NULL DEFAULT 0',
    customers_created: 'INTEGER NOT NULL DEFAULT 0',
    pets_created: 'INTEGER NOT NULL DEFAULT 0',
    services_created: 'INTEGER NOT NULL DEFAULT 0',
    duration_ms: 'INTEGER NOT NULL DEFAULT 0',
    statements: 'INTEGER NOT NULL DEFAULT 0',
    vanished: 'INTEGER NOT NULL DEFAULT 0',
    moved: 'INTEGER NOT NULL DEFAULT 0',
    cancelled: 'INTEGER NOT NULL DEFAULT 0',
    withheld: 'INTEGER NOT NULL DEFAULT 0',
    owners_changed: 'INTEGER NOT NULL DEFAULT 0',
    owners_updated: 'INTEGER NOT NULL DEFAULT 0',
    owner_refresh_error: 'TEXT',
    error: 'TEXT',
    // The host that ran it (several may share the database); null on rows older than the column.
    host: 'TEXT',
  },
}
/**
 * gingr-sync's own state per tenant, never Tailtown's columns: where the hourly owner refresh
 * starts from (issue 13), and whatever else a run must remember about a tenant between runs.
 * A row is made on a tenant's first need of one.
 */
export const STATE_TABLE: TableDefinition = {
  name: 'gingr_sync_tenants',
  columns: {
    tenant_id: 'TEXT PRIMARY KEY',
    /** The facility-local day through which changed owners were last refreshed successfully. */
    owners_refreshed_through: 'DATE',
    // The claim of an hourly run on the tenant (src/db/leases.ts): whose, until when, when it was
    // taken (a run takes no tenant twice), and when the last claim ended in a failure.
    lease_owner: 'TEXT',
    lease_until: 'TIMESTAMPTZ',
    claimed_at: 'TIMESTAMPTZ',
    last_failed_at: 'TIMESTAMPTZ',
  },
}

/** gingr-sync's own tables, after Tailtown's. */
export const GINGR_SYNC_TABLES: readonly TableDefinition[] = [RUNS_TABLE, STATE_TABLE]

/** The newest runs of a tenant first: `status` reads only those. */
export const RUNS_INDEX = 'gingr_sync_runs_tenant_started_idx'

/** Prisma's names: `<table>_<columns>_key` for unique indexes, `_idx` for others, `_fkey`, `_pkey`. */
export function indexName(table: string, columns: string[], unique: boolean): string {
  return `${table}_${columns.join('_')}_${unique ? 'key' : 'idx'}`
}

/** A column can be added to a table that has rows only if it is nullable or has a default. */
export function isAddable(type: string): boolean {
  return !/\bNOT NULL\b/i.test(type) || /\bDEFAULT\b/i.test(type)
}
