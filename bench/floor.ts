/**
 * The floor: the least any writer could spend putting the same rows into PostgreSQL. `COPY ...
 * FROM STDIN` in text format into unlogged tables shaped like Tailtown's (same columns, types and
 * defaults) but with no index, no foreign key and no WAL, ids made and references resolved on the
 * client. Encoding the rows is part of the cost, as encoding COPY text is part of gingr-sync's.
 * The same COPY into Tailtown's own tables (their indexes, unique checks and foreign-key triggers)
 * is the floor for this schema: what a writer that knew every id in advance would still pay.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Sql, TransactionSql } from '../src/db/connect.ts'
import type { WindowRows } from '../src/db/writes.ts'

const TABLES = ['customers', 'pets', 'services', 'reservations'] as const
const floorTable = (table: string) => `floor_${table}`

/** `bare`: the unlogged, index-free copies; `tailtown`: the real tables. */
export type FloorTarget = 'bare' | 'tailtown'

export async function createFloorTables(sql: Sql): Promise<void> {
  for (const table of TABLES) {
    await sql.unsafe(`CREATE UNLOGGED TABLE IF NOT EXISTS ${floorTable(table)} (LIKE ${table} INCLUDING DEFAULTS)`)
  }
}

export async function emptyFloorTables(sql: Sql): Promise<void> {
  await sql.unsafe(`TRUNCATE ${TABLES.map(floorTable).join(', ')}`)
}

type Cell = string | number | Date | null

/** COPY's text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped. */
function cell(value: Cell): string {
  if (value === null) return '\\N'
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'number') return String(value)
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

/** Lines in slices, so the stream's backpressure is honoured and no single string holds 50 MB. */
function* lines(rows: readonly Cell[][]): Generator<string> {
  const SLICE = 500
  for (let at = 0; at < rows.length; at += SLICE) {
    yield rows
      .slice(at, at + SLICE)
      .map((row) => `${row.map(cell).join('\t')}\n`)
      .join('')
  }
}

async function copy(tx: TransactionSql, table: string, columns: string[], rows: Cell[][]): Promise<void> {
  if (rows.length === 0) return
  const list = columns.map((column) => `"${column}"`).join(', ')
  const writable = await tx.unsafe(`COPY ${table} (${list}) FROM STDIN`).writable()
  await pipeline(Readable.from(lines(rows)), writable)
}

/** Emails as the unique ("tenantId", email) index accepts them: the first owner keeps a shared one. */
function uniqueEmails(rows: WindowRows): Map<string, string> {
  const claimed = new Set<string>()
  return new Map(
    rows.customers.map((c) => {
      const own = c.email !== null && !claimed.has(c.email.toLowerCase())
      if (own) claimed.add(c.email!.toLowerCase())
      return [c.externalId, own ? c.email! : `gingr-owner-${c.externalId}@no-email.invalid`]
    }),
  )
}

/** COPYs one window's rows in one transaction; returns the rows stored. */
export async function copyWindow(sql: Sql, tenantId: string, rows: WindowRows, target: FloorTarget): Promise<number> {
  const table = (name: string) => (target === 'bare' ? floorTable(name) : name)
  const now = new Date()
  const customerIds = new Map(rows.customers.map((c) => [c.externalId, randomUUID()]))
  const petIds = new Map(rows.pets.map((p) => [p.externalId, randomUUID()]))
  const serviceIds = new Map(rows.services.map((s) => [s.externalId, randomUUID()]))
  const emails = uniqueEmails(rows)
  await sql.begin(async (tx) => {
    await copy(
      tx,
      table('customers'),
      ['id', 'tenantId', 'email', 'firstName', 'lastName', 'phone', 'address', 'city', 'state', 'externalId', 'updatedAt'],
      rows.customers.map((c) => [
        customerIds.get(c.externalId)!,
        tenantId,
        emails.get(c.externalId)!,
        c.firstName,
        c.lastName,
        c.phone,
        c.address,
        c.city,
        c.state,
        c.externalId,
        now,
      ]),
    )
    await copy(
      tx,
      table('pets'),
      ['id', 'tenantId', 'name', 'type', 'breed', 'notes', 'externalId', 'customerId', 'updatedAt'],
      rows.pets.map((p) => [
        petIds.get(p.externalId)!,
        tenantId,
        p.name,
        p.type,
        p.breed,
        p.notes,
        p.externalId,
        customerIds.get(p.ownerExternalId)!,
        now,
      ]),
    )
    await copy(
      tx,
      table('services'),
      ['id', 'tenantId', 'name', 'duration', 'price', 'serviceCategory', 'externalId', 'updatedAt'],
      rows.services.map((s) => [serviceIds.get(s.externalId)!, tenantId, s.name, s.duration, 0, s.category, s.externalId, now]),
    )
    await copy(
      tx,
      table('reservations'),
      [
        'id',
        'tenantId',
        'externalId',
        'customerId',
        'petId',
        'serviceId',
        'startDate',
        'endDate',
        'status',
        'notes',
        'checkInDate',
        'checkOutDate',
        'cancelDate',
        'updatedAt',
      ],
      rows.reservations.map((r) => [
        randomUUID(),
        tenantId,
        r.externalId,
        customerIds.get(r.customerExternalId)!,
        petIds.get(r.petExternalId)!,
        serviceIds.get(r.serviceExternalId)!,
        r.startDate,
        r.endDate,
        r.status,
        r.notes,
        r.checkInDate,
        r.checkOutDate,
        r.cancelDate,
        now,
      ]),
    )
  })
  return rows.customers.length + rows.pets.length + rows.services.length + rows.reservations.length
}
