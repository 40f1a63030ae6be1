/**
 * A role that may read the Tailtown tables but not write them (RELIABILITY.md): doctor names the
 * GRANTs it lacks, and a sync that fails for it says, too, that its failure could not be recorded.
 * The role gets a password: on the embedded server the tests' own logins are checked.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Bed, type Beds, errorLines, gingrSync, startBeds } from './_faults.ts'

setDefaultTimeout(60_000)

const ROLE = `gingr_sync_readonly_${process.pid}`
const PASSWORD = 'ro-Secret-pw-7731'
let beds: Beds
let bed: Bed
let readOnlyUrl: string

beforeAll(async () => {
  beds = await startBeds('fault-privileges')
  bed = await beds.bed()
  const sql = bed.db.sql
  await sql.unsafe(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`)
  await sql.unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE}`)
  const url = new URL(bed.db.url)
  ;[url.username, url.password] = [ROLE, PASSWORD]
  readOnlyUrl = url.toString()
  bed.secrets.push(PASSWORD)
})
afterAll(async () => {
  // Roles are the server's, not the database's: this one goes before its database does.
  await bed.db.sql.unsafe(`DROP OWNED BY ${ROLE}`)
  await bed.db.sql.unsafe(`DROP ROLE IF EXISTS ${ROLE}`)
  await beds.stop()
})

describe('a role that may only read', () => {
  test('doctor fails the schema check, naming each GRANT it lacks: exit 1', async () => {
    const result = await gingrSync(bed, ['doctor'], { DATABASE_URL: readOnlyUrl })
    expect(result.code).toBe(1)
    // The first two problems, then how many more: migrate cannot grant, the owner must.
    const sequence = `The role ${ROLE} may not use gingr_sync_runs_id_seq, which recording a run needs: GRANT USAGE ON SEQUENCE gingr_sync_runs_id_seq TO "${ROLE}".`
    const customers = `The role ${ROLE} may not INSERT, UPDATE on customers, which the sync needs: GRANT INSERT, UPDATE ON customers TO "${ROLE}".`
    expect(result.stdout).toContain(`✗ Database schema: ${sequence} ${customers} (and 6 more)`)
    expect(result.stdout).toContain("As the database's owner, grant the role what it lacks")
  })

  test('a sync fails with the reason, and says that the failure could not be recorded either', async () => {
    bed.sim.account.addReservation()
    const result = await gingrSync(bed, ['--tenant', bed.tenant], { DATABASE_URL: readOnlyUrl })
    expect(result.code).toBe(1)
    const [failed] = errorLines(result).filter((line) => line.includes('Sync failed'))
    expect(failed).toContain('permission denied')
    expect(failed).toContain('The failure could not be recorded in gingr_sync_runs either:')
  })
})
