/**
 * Who holds a lease (src/db/leases.ts): this process, named so that a later run on the same
 * machine can tell that it is gone. `host boot:<id> pid:[namespace] pid`. The host name alone is
 * no identity (cloned VMs keep it), nor is the pid namespace (the initial one has the same inode
 * on every Linux machine): the kernel's boot id is random at each boot, else the machine id. The
 * namespace still keeps two containers of one machine (one boot id) from reading each other's
 * process ids as their own.
 */
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return 'pid:[?]'
  }
}

/** This boot of this machine, or undefined where neither file exists (macOS, a bare chroot). */
function machineIdentity(): string | undefined {
  for (const path of ['/proc/sys/kernel/random/boot_id', '/etc/machine-id']) {
    try {
      const id = readFileSync(path, 'utf8').trim()
      if (/^[0-9a-f-]{16,}$/i.test(id)) return id
    } catch {}
  }
  return undefined
}

const identity = machineIdentity()

/**
 * What every lease of a process of this machine (and pid namespace) starts with. Without a machine
 * identity there is no telling this machine's leases from a clone's: none is ever voided early.
 */
export const LOCAL_OWNER_PREFIX = `${hostname()} boot:${identity ?? '?'} ${pidNamespace()} `

export function ownerOfThisProcess(): string {
  return `${LOCAL_OWNER_PREFIX}${process.pid}`
}

/**
 * A local owner whose process no longer exists: killed (SIGKILL, the OOM killer) before it could
 * free its leases. Only an owner of exactly this machine's boot and pid namespace: another machine's
 * process ids say nothing here. A process id reused since, or one of another user (EPERM), counts
 * as alive: then the lease runs out as any other would.
 */
export function isDeadLocalOwner(owner: string): boolean {
  if (identity === undefined || !owner.startsWith(LOCAL_OWNER_PREFIX)) return false
  const rest = owner.slice(LOCAL_OWNER_PREFIX.length)
  const pid = /^\d+$/.test(rest) ? Number(rest) : Number.NaN
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
