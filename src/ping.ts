import { errorMessage } from './errors.ts'
import type { Logger } from './log.ts'
import { timing } from './timing.ts'
import { VERSION } from './version.ts'

export type PingEvent = 'start' | 'success' | 'fail'

/**
 * Healthchecks-style monitoring: `<url>/start` when a run begins, `<url>` when it ends well,
 * `<url>/fail` when it does not. A ping is a courtesy to the monitor: it is short, and its failure
 * never fails the sync.
 */
export async function ping(url: string | undefined, event: PingEvent, log: Pick<Logger, 'warn'>): Promise<void> {
  if (!url) return
  const target = pingTarget(url, event)
  try {
    const response = await fetch(target, {
      method: 'POST',
      signal: AbortSignal.timeout(timing().pingTimeoutMs),
      headers: { 'user-agent': `gingr-sync/${VERSION}` },
    })
    await response.body?.cancel()
    if (!response.ok) log.warn(`⚠️  The monitoring ping (${event}) was answered with HTTP ${response.status}; the sync is not affected.`)
  } catch (error) {
    log.warn(`⚠️  The monitoring ping (${event}) failed: ${errorMessage(error)}; the sync is not affected.`)
  }
}

/**
 * Where an event is sent: `/start` and `/fail` go at the end of the URL's path, before its query,
 * so that a monitor whose URL carries a query (`…/push/KEY?status=up`) is not told "up" for a failure.
 */
export function pingTarget(url: string, event: PingEvent): string {
  if (event === 'success') return url
  const target = new URL(url)
  target.pathname = `${target.pathname.replace(/\/+$/, '')}/${event}`
  return target.toString()
}
