import { oneLine } from './text.ts'

/**
 * Exit codes are part of the operator's contract (README, `--help`): cron wrappers and monitoring
 * branch on them, so they never change meaning.
 */
export const ExitCode = {
  /** Every tenant synced. */
  Ok: 0,
  /** At least one tenant failed (or, for `status`, a tenant is stale; for `doctor`, a check failed). */
  Failed: 1,
  /** Usage or configuration error: nothing was done. */
  Usage: 2,
  /** Every tenant synced, but some records were invalid and skipped. */
  Partial: 3,
  /** Stopped at --max-runtime: the tenant in flight was rolled back, those before it stay synced. */
  Deadline: 4,
  /** Stopped by SIGINT (Ctrl-C): the open transaction was rolled back (128 + 2). */
  Interrupted: 130,
  /** Stopped by SIGTERM: the open transaction was rolled back (128 + 15). */
  Terminated: 143,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A mistake on the command line or in the settings: exit 2, nothing done. */
export class UsageError extends Error {
  override name = 'UsageError'
  readonly exitCode = ExitCode.Usage
}

/**
 * One tenant's own setting is wrong (its time zone, its Gingr account): that tenant fails with
 * this sentence, and the others still sync.
 */
export class TenantSettingError extends Error {
  override name = 'TenantSettingError'
}

/** The message of anything thrown, as one printable line. */
export function errorMessage(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error))
}
