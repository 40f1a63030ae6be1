import type { Sql, TransactionSql } from './connect.ts'

/**
 * `sql.begin(fn)`, made safe for a backend that dies mid-transaction (terminated, crashed, cut off).
 * When a statement fails because the connection is gone, postgres.js's begin() still sends its own
 * ROLLBACK, written to the dead connection's null socket from a timer: an exception no caller can
 * catch, and the process crashed with a stack trace before the run was recorded as failed
 * (porsager/postgres#1066, #1208; test/faults-db.test.ts reproduces it).
 *
 * So on a lost connection `fn` never settles (begin() then has nothing to write) and the loss is
 * reported through a promise of our own; PostgreSQL rolls the transaction back as the session ends.
 * A BEGIN that fails for a lost connection is tried once more (see below).
 * (A reserved connection with a hand-written BEGIN is no way out: in postgres.js 3.4.9 reserve()
 * never completes when it must open a connection and fetch_types is off, as connect.ts sets it.)
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
  try {
    return await attempt(sql, fn)
  } catch (error) {
    // postgres.js 3.4.9 keeps a dead connection's last FATAL error across its reconnection and
    // fails the next statement sent on it with that stale error: here BEGIN, nothing done yet.
    if (!(error instanceof StaleConnection)) throw error
    return attempt(sql, fn).catch((again: unknown) => {
      throw again instanceof StaleConnection ? again.cause : again
    })
  }
}

/**
 * A read that may be a run's first statement, where the stale error of a connection an earlier
 * run lost would fail it (see inTransaction): tried once more when it meets a lost connection.
 * Only for statements that change nothing.
 */
export async function readOnLiveConnection<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (!isConnectionLost(error)) throw error
    return read()
  }
}

/** BEGIN failed for a lost connection before `fn` ran: nothing was done, so one retry is safe. */
class StaleConnection extends Error {}

async function attempt<T>(sql: Sql, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
  let reportLoss: (error: unknown) => void = () => {}
  const lost = new Promise<never>((_, reject) => (reportLoss = reject))
  let entered = false
  const work = sql.begin(async (tx) => {
    entered = true
    try {
      return await fn(tx)
    } catch (error) {
      if (!isConnectionLost(error)) throw error
      reportLoss(error)
      return new Promise<never>(() => {})
    }
  })
  // begin() resolves to fn's own result; its type only unwraps arrays of promises, which T is not.
  return Promise.race([work as Promise<T>, lost]).catch((error: unknown) => {
    throw !entered && isConnectionLost(error) ? new StaleConnection('BEGIN met a lost connection', { cause: error }) : error
  })
}

/** The driver's codes for a connection that is gone, and the socket's. */
const LOST = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'])

/**
 * A FATAL or PANIC error ends the session: PostgreSQL closes the connection right after sending it.
 * (Also the stale error a reconnected connection answers its first statement with, see above.)
 */
export function isConnectionLost(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, severity } = error as { code?: unknown; severity?: unknown }
  return (typeof code === 'string' && LOST.has(code)) || severity === 'FATAL' || severity === 'PANIC'
}
