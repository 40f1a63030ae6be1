/**
 * A test file's own folder for the files it hands the CLI (env files with passwords, config files
 * with API keys). It is made private (mkdtemp: mode 700) in the temporary folder, with this
 * process's pid in its name, and removed when the file's tests end, or at exit when the run is
 * interrupted. The file's afterAll then proves it: nothing of the file's name and pid is left in the
 * temporary folder. (The pid keeps the check to this run: other runs on the machine share /tmp.)
 */
import { afterAll, expect } from 'bun:test'
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestDir {
  path: string
  /** Writes `name` in the folder, mode 600 unless told otherwise, and returns its path. */
  write(name: string, text: string, mode?: number): string
}

/** Everything this run left in the temporary folder under `prefix`. */
export function leftInTmp(prefix: string): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(prefix))
}

export function testDir(area: string): TestDir {
  const prefix = `gingr-sync-${area}-${process.pid}-`
  const path = mkdtempSync(join(tmpdir(), prefix))
  const remove = () => rmSync(path, { recursive: true, force: true })
  process.once('exit', remove)
  afterAll(() => {
    remove()
    process.off('exit', remove)
    expect(leftInTmp(prefix)).toEqual([])
  })
  return {
    path,
    write(name, text, mode = 0o600) {
      const file = join(path, name)
      writeFileSync(file, text, { mode })
      // writeFileSync's mode applies only to a file it creates: a rewrite keeps the old one.
      chmodSync(file, mode)
      return file
    },
  }
}
