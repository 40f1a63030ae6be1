import type { Sql } from '../db/connect.ts'

/**
 * Databases that the tests or the benchmarks made under `prefix` + their process id, and that a
 * killed run could not drop. Only those whose process is gone are dropped: a live run's are its own.
 */
export async function dropLeftoverDatabases(admin: Sql, prefix: string): Promise<void> {
  const rows = await admin<{ datname: string }[]>`SELECT datname FROM pg_database WHERE starts_with(datname, ${prefix})`
  for (const { datname } of rows) {
    const pid = Number(datname.slice(prefix.length).split('_')[0])
    if (!Number.isInteger(pid) || pid === process.pid || isRunning(pid)) continue
    await admin.unsafe(`DROP DATABASE IF EXISTS "${datname.replaceAll('"', '""')}" WITH (FORCE)`).catch(() => {})
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
