/**
 * Servers with a property some tests need, which the suite's own server may lack: then an embedded
 * PostgreSQL is started for the file (stop it in afterAll; the suite's own one is never stopped).
 */
import { connect } from '../src/db/connect.ts'
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts'
import { serverUrl } from './_db.ts'

const suiteServer = async (): Promise<EmbeddedServer> => ({ url: await serverUrl(), stop: async () => {} })

/**
 * One that checks passwords, for the tests of a wrong one. The embedded server authenticates with
 * scram-sha-256; a trust server (a CI's or this machine's TEST_DATABASE_URL) lets any password in.
 */
export async function passwordCheckingServer(): Promise<EmbeddedServer> {
  const wrong = new URL(await serverUrl())
  wrong.password = 'not-the-password-71'
  const sql = connect(wrong.toString(), { max: 1, connectTimeoutSeconds: 5 })
  try {
    await sql`SELECT 1`
  } catch (error) {
    if ((error as { code?: unknown }).code === '28P01') return suiteServer()
    throw error
  } finally {
    await sql.end({ timeout: 0 })
  }
  return startEmbeddedPostgres()
}

/** One without SSL, as this machine's and the embedded one are (a TEST_DATABASE_URL's may have it). */
export async function serverWithoutSsl(): Promise<EmbeddedServer> {
  const sql = connect(await serverUrl(), { max: 1 })
  try {
    const [row] = await sql<{ ssl: string }[]>`SELECT current_setting('ssl') AS ssl`
    if (row?.ssl === 'off') return suiteServer()
  } finally {
    await sql.end()
  }
  return startEmbeddedPostgres()
}
