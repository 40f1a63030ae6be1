/**
 * `--metrics-file`: node_exporter's textfile collector reads every `*.prom` file of its folder at
 * any moment, so the file is replaced whole: written beside it under a name the collector ignores,
 * then renamed over it (a rename within one folder is atomic).
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fchmodSync, lstatSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UsageError } from './errors.ts'

/**
 * Before the run: a folder that does not exist would fail only at the end, after all the work; and
 * the rename replaces whatever has the name, so a device (`/dev/null`, run as root), a FIFO or a
 * symbolic link there would be destroyed. The collector reads only `*.prom`.
 */
export function checkMetricsPath(path: string): void {
  if (path === '') throw new UsageError('--metrics-file needs the path of a file whose name ends in .prom.')
  if (!statOf(dirname(path))?.isDirectory()) throw new UsageError(`--metrics-file: the folder ${dirname(path)} does not exist.`)
  const existing = statOf(path)
  if (existing?.isDirectory()) throw new UsageError(`--metrics-file: ${path} is a folder; give the file's path (its name ending in .prom).`)
  if (existing !== undefined && !existing.isFile())
    throw new UsageError(`--metrics-file: ${path} exists and is not a regular file (a device, a FIFO or a link), so it is not replaced.`)
  if (!path.endsWith('.prom'))
    throw new UsageError(`--metrics-file: ${path} does not end in .prom, and node_exporter's textfile collector reads only those.`)
}

/** The path itself, a link not followed: a link is what the rename would replace. */
function statOf(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/**
 * The temporary file is made new (O_CREAT|O_EXCL: never a file or a link someone put under that
 * name, for whoever can write in the folder may, and the job may be root's) under a name no one can
 * guess, mode 0644 whatever the umask (node_exporter runs as a user of its own).
 */
export function writeMetricsFile(path: string, text: string): void {
  // Checked again: the run took minutes, and the folder is shared.
  checkMetricsPath(path)
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
  let created = false
  try {
    const fd = openSync(temporary, 'wx', 0o644)
    created = true
    try {
      fchmodSync(fd, 0o644)
      writeFileSync(fd, text)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
  } catch (error) {
    if (created) rmSync(temporary, { force: true })
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(`The metrics file ${path} could not be written (${code ?? 'unknown error'}).`)
  }
}
