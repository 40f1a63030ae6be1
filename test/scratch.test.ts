/** Where the suite's throwaway files go: /dev/shm only when it suits (test/_scratch.ts). */
import { describe, expect, test } from 'bun:test'
import { type FolderFacts, MEMORY_ROOM_BYTES, mountOptionsOf, suitsScratch } from './_scratch.ts'

const TMPFS = 0x01021994
const EXT4 = 0xef53
const good: FolderFacts = { mode: 0o41777, type: TMPFS, freeBytes: 24 * 1024 ** 3, mountOptions: ['rw', 'relatime'] }

describe('a memory folder for the scratch files', () => {
  test('a roomy, open tmpfs that may run programs suits', () => {
    expect(suitsScratch(good)).toBe(true)
    expect(suitsScratch({ ...good, freeBytes: MEMORY_ROOM_BYTES })).toBe(true)
  })

  test.each<[string, Partial<FolderFacts>]>([
    ['mounted noexec, as containers mount /dev/shm', { mountOptions: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] }],
    ["a container's 64 MB", { freeBytes: 64 * 1024 ** 2 }],
    ['one byte short of the room', { freeBytes: MEMORY_ROOM_BYTES - 1 }],
    ['no room at all', { freeBytes: 0 }],
    ['a disk, not memory', { type: EXT4 }],
    ['private (mode 700): the server user could not reach it as root', { mode: 0o40700 }],
    ['open but without the sticky bit', { mode: 0o40777 }],
    ['not in the mount table', { mountOptions: undefined }],
  ])('%s: does not suit', (_name, change) => {
    expect(suitsScratch({ ...good, ...change })).toBe(false)
  })

  test('the mount in force is the last one on the point; other points and junk lines are ignored', () => {
    const mounts = [
      'tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0',
      '',
      'garbage',
      'tmpfs /dev/shmem tmpfs rw 0 0',
      'tmpfs /dev/shm tmpfs rw,relatime,size=24683784k 0 0',
    ].join('\n')
    expect(mountOptionsOf(mounts, '/dev/shm')).toEqual(['rw', 'relatime', 'size=24683784k'])
    expect(mountOptionsOf(mounts.split('\n').slice(0, 1).join('\n'), '/dev/shm')).toContain('noexec')
    expect(mountOptionsOf('', '/dev/shm')).toBeUndefined()
    expect(mountOptionsOf('a line without fields', '/dev/shm')).toBeUndefined()
  })
})
