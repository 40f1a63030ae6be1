/**
 * The old way, for comparison only: the script gingr-sync replaces looked up and wrote one
 * reservation at a time, each statement its own autocommitted transaction, and rewrote every
 * reservation it saw whether or not anything had changed. This is that loop, written plainly
 * against the same schema, over the same mapped rows gingr-sync writes. It is not a sync anyone
 * should run: no transaction, no lock, no legacy-id or duplicate handling.
 */
import postgres from 'postgres'
import type { Sql } from '../src/db/connect.ts'
import type { CustomerRow, PetRow, ServiceRow, WindowRows } from '../src/db/writes.ts'

export interface NaiveCounts {
  created: number
  updated: number
}

export async function naiveSync(sql: Sql, tenantId: string, rows: WindowRows): Promise<NaiveCounts> {
  const customers = new Map(rows.customers.map((row) => [row.externalId, row]))
  const pets = new Map(rows.pets.map((row) => [row.externalId, row]))
  const services = new Map(rows.services.map((row) => [row.externalId, row]))
  const counts: NaiveCounts = { created: 0, updated: 0 }
  for (const r of rows.reservations) {
    const customerId = await customerFor(sql, tenantId, customers.get(r.customerExternalId)!)
    const petId = await petFor(sql, tenantId, pets.get(r.petExternalId)!, customerId)
    const serviceId = await serviceFor(sql, tenantId, services.get(r.serviceExternalId)!)
    const [existing] = await sql<{ id: string }[]>`
      SELECT id FROM reservations WHERE "tenantId" = ${tenantId} AND "externalId" = ${r.externalId} LIMIT 1`
    if (existing) {
      await sql`
        UPDATE reservations SET "customerId" = ${customerId}, "petId" = ${petId}, "serviceId" = ${serviceId},
          "startDate" = ${r.startDate}, "endDate" = ${r.endDate}, status = ${r.status}::"ReservationStatus",
          notes = ${r.notes}, "checkInDate" = ${r.checkInDate}, "checkOutDate" = ${r.checkOutDate},
          "cancelDate" = ${r.cancelDate}, "updatedAt" = (now() AT TIME ZONE 'UTC')
        WHERE id = ${existing.id}`
      counts.updated++
    } else {
      await sql`
        INSERT INTO reservations (id, "tenantId", "externalId", "customerId", "petId", "serviceId", "startDate",
          "endDate", status, notes, "checkInDate", "checkOutDate", "cancelDate", "updatedAt")
        VALUES (gen_random_uuid()::text, ${tenantId}, ${r.externalId}, ${customerId}, ${petId}, ${serviceId},
          ${r.startDate}, ${r.endDate}, ${r.status}::"ReservationStatus", ${r.notes}, ${r.checkInDate},
          ${r.checkOutDate}, ${r.cancelDate}, (now() AT TIME ZONE 'UTC'))`
      counts.created++
    }
  }
  return counts
}

async function customerFor(sql: Sql, tenantId: string, c: CustomerRow): Promise<string> {
  const [found] = await sql<{ id: string }[]>`
    SELECT id FROM customers WHERE "tenantId" = ${tenantId} AND "externalId" = ${c.externalId} LIMIT 1`
  if (found) return found.id
  const insert = (email: string) => sql<{ id: string }[]>`
    INSERT INTO customers (id, "tenantId", email, "firstName", "lastName", phone, address, city, state, "externalId", "updatedAt")
    VALUES (gen_random_uuid()::text, ${tenantId}, ${email}, ${c.firstName}, ${c.lastName}, ${c.phone}, ${c.address},
            ${c.city}, ${c.state}, ${c.externalId}, (now() AT TIME ZONE 'UTC'))
    RETURNING id`
  const placeholder = `gingr-owner-${c.externalId}@no-email.invalid`
  try {
    const [row] = await insert(c.email ?? placeholder)
    return row!.id
  } catch (error) {
    // Owners sharing an email: the script found out from the unique index, and tried again.
    if (!(error instanceof postgres.PostgresError && error.code === '23505')) throw error
    const [row] = await insert(placeholder)
    return row!.id
  }
}

async function petFor(sql: Sql, tenantId: string, p: PetRow, customerId: string): Promise<string> {
  const [found] = await sql<{ id: string }[]>`
    SELECT id FROM pets WHERE "tenantId" = ${tenantId} AND "externalId" = ${p.externalId} LIMIT 1`
  if (found) return found.id
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO pets (id, "tenantId", name, type, breed, notes, "externalId", "customerId", "updatedAt")
    VALUES (gen_random_uuid()::text, ${tenantId}, ${p.name}, ${p.type}::"PetType", ${p.breed}, ${p.notes},
            ${p.externalId}, ${customerId}, (now() AT TIME ZONE 'UTC'))
    RETURNING id`
  return row!.id
}

async function serviceFor(sql: Sql, tenantId: string, s: ServiceRow): Promise<string> {
  const [found] = await sql<{ id: string }[]>`
    SELECT id FROM services WHERE "tenantId" = ${tenantId} AND "externalId" = ${s.externalId} LIMIT 1`
  if (found) return found.id
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO services (id, "tenantId", name, duration, price, "serviceCategory", "externalId", "updatedAt")
    VALUES (gen_random_uuid()::text, ${tenantId}, ${s.name}, ${s.duration}, 0, ${s.category}::"ServiceCategory",
            ${s.externalId}, (now() AT TIME ZONE 'UTC'))
    RETURNING id`
  return row!.id
}
