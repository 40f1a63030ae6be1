/** Figures of a handful of runs on a shared machine: the median, and the range beside it. */

export interface Spread {
  median: number
  min: number
  max: number
  runs: number
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  // An even count takes the mean of the middle two, so two runs do not report the slower one.
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length }
}

/** The same value in every run, or the distinct values joined: counts should not vary. */
export function sameOrList(values: readonly number[]): string {
  const distinct = [...new Set(values)]
  return distinct.map((value) => value.toLocaleString('en-US')).join(' / ')
}
