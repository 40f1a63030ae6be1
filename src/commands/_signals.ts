import { ExitCode } from '../errors.ts'
import type { Logger } from '../log.ts'

/**
 * SIGTERM, SIGINT or the run's deadline: the fetch is aborted, `beforeExit` records the tenant in
 * flight (best effort) and closes the database, which makes PostgreSQL roll the open transaction
 * back; the process exits with the code of the reason, within 3 s whatever the database does.
 * The sync's and the full sync's. Returns the function that removes the handlers.
 */
/** A run stopped by a signal or its deadline waits here: the handler records it and exits with its code. */
export async function unlessStopped(abort: AbortController): Promise<void> {
  if (abort.signal.aborted) await new Promise<never>(() => {})
}

export function onSignals(
  log: Logger,
  abort: AbortController,
  beforeExit: (reason: string, code: number) => Promise<void>,
  runtimeLimitMs: number,
): () => void {
  const stopRun = (reason: string, rolledBack: string, code: number) => {
    if (abort.signal.aborted) return
    log.error(`❌ ${reason}: ${rolledBack}`)
    abort.abort()
    const exit = () => process.exit(code)
    setTimeout(exit, 3000).unref()
    beforeExit(`${reason}: the tenant's open transaction was rolled back.`, code).then(exit, exit)
  }
  const handler = (signal: NodeJS.Signals) =>
    stopRun(
      `Stopped by ${signal}`,
      // Not "nothing is kept": each tenant commits on its own, so those done before the signal stay.
      'the tenants in flight are rolled back; tenants synced before the stop stay synced.',
      signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted,
    )
  const deadline = setTimeout(
    () =>
      stopRun(
        `Stopped at the run's time limit (--max-runtime ${runtimeLimitMs / 1000} s)`,
        'the tenant in flight is rolled back; tenants synced before it stay synced.',
        ExitCode.Deadline,
      ),
    runtimeLimitMs,
  )
  deadline.unref()
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
  return () => {
    clearTimeout(deadline)
    process.off('SIGTERM', handler)
    process.off('SIGINT', handler)
  }
}
