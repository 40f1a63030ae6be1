/**
 * `--metrics-file`: node_exporter's textfile collector reads every `*.prom` file of its folder at
 * any moment, so the file is replaced whole: written beside it under a name the collector ignores,
 * then renamed over it (a rename within one folder is atomic).
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UsageError } from './errors.ts'

/** Before the run: a folder that does not exist would fail only at the end, after all the work. */
export function checkMetricsPath(path: string): void {
  if (!statOf(dirname(path))?.isDirectory()) throw new UsageError(`--metrics-file: the folder ${dirname(path)} does not exist.`)
  if (statOf(path)?.isDirectory())
    throw new UsageError(`--metrics-file: ${path} is a folder; give the file's path (its name ending in .prom).`)
}

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

export function writeMetricsFile(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    writeFileSync(temporary, text, { mode: 0o644 })
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(`The metrics file ${path} could not be written (${code ?? 'unknown error'}).`)
  }
}
