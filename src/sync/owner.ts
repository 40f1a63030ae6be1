/**
 * Who holds a lease (src/db/leases.ts): this process, named so that a later run on the same
 * machine can tell that it is gone. `host pid-namespace pid`: the namespace keeps two containers
 * with one host name from reading each other's process ids as their own.
 */
import { readlinkSync } from 'node:fs'
import { hostname } from 'node:os'

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return 'pid:[?]'
  }
}

/** What every lease of a process of this machine (and pid namespace) starts with. */
export const LOCAL_OWNER_PREFIX = `${hostname()} ${pidNamespace()} `

export function ownerOfThisProcess(): string {
  return `${LOCAL_OWNER_PREFIX}${process.pid}`
}

/**
 * A local owner whose process no longer exists: killed (SIGKILL, the OOM killer) before it could
 * free its leases. A process id reused since, or one of another user (EPERM), counts as alive:
 * then the lease runs out as any other would.
 */
export function isDeadLocalOwner(owner: string): boolean {
  if (!owner.startsWith(LOCAL_OWNER_PREFIX)) return false
  const pid = Number(owner.slice(LOCAL_OWNER_PREFIX.length))
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
