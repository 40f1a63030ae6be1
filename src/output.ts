/**
 * stdout carries the result (--json, status, doctor, --help): a result that cannot be written (a
 * full disk, a closed pipe) is a failure with a sentence, never an unhandled 'error' event's stack
 * trace followed by exit 0.
 */
let failed: NodeJS.ErrnoException | undefined
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  failed ??= error
})

/** Writes `text` to stdout and waits until it is written; rejects with a sentence if it cannot be. */
export function writeResult(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => {
      const reason = (error as NodeJS.ErrnoException | null | undefined) ?? failed
      if (reason) reject(new Error(`The result could not be written to standard output (${reason.code ?? reason.message}).`))
      else resolve()
    }
    if (failed) done()
    else process.stdout.write(text, done)
  })
}
