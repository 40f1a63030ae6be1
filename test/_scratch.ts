/**
 * Where the suite's throwaway files go (the test server's data, the demos' servers, each test's own
 * folder) when TMPDIR is not set: a memory file system when /dev/shm is one with room. The run
 * creates and deletes tens of thousands of files, and on a disk without a journal (ext4 then skips
 * every recently freed inode when it makes a file) that cost a third of the run. A TMPDIR of your
 * own is always used as it is (test/_setup.ts).
 */
import { readFileSync, statfsSync, statSync } from 'node:fs'

const MEMORY_FOLDER = '/dev/shm'
const TMPFS_MAGIC = 0x01021994
export const MEMORY_ROOM_BYTES = 2 * 1024 ** 3

export interface FolderFacts {
  /** st_mode of the folder. */
  mode: number
  /** statfs's file system type. */
  type: number
  freeBytes: number
  /** Its mount's options, from /proc/self/mounts; undefined when it has no line there. */
  mountOptions: string[] | undefined
}

/**
 * A tmpfs with room, world-writable with the sticky bit as /tmp is (as root, the server's own user
 * must reach it), and not mounted noexec as containers mount /dev/shm: the tests run PostgreSQL and
 * scripts from there.
 */
export function suitsScratch(facts: FolderFacts): boolean {
  const open = (facts.mode & 0o1777) === 0o1777
  const runsPrograms = facts.mountOptions !== undefined && !facts.mountOptions.includes('noexec')
  return open && facts.type === TMPFS_MAGIC && facts.freeBytes >= MEMORY_ROOM_BYTES && runsPrograms
}

/** The options of the last mount on `mountPoint` in a /proc/self/mounts text (the one in force). */
export function mountOptionsOf(mounts: string, mountPoint: string): string[] | undefined {
  const fields = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .findLast((line) => line[1] === mountPoint)
  return fields === undefined ? undefined : (fields[3] ?? '').split(',')
}

/** MEMORY_FOLDER when it suits, else undefined (the system's temporary folder stays). */
export function memoryScratch(): string | undefined {
  try {
    const fs = statfsSync(MEMORY_FOLDER)
    const facts = {
      mode: statSync(MEMORY_FOLDER).mode,
      type: fs.type,
      freeBytes: fs.bavail * fs.bsize,
      mountOptions: mountOptionsOf(readFileSync('/proc/self/mounts', 'utf8'), MEMORY_FOLDER),
    }
    return suitsScratch(facts) ? MEMORY_FOLDER : undefined
  } catch {
    return undefined
  }
}
