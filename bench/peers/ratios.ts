/**
 * Ratios paired within a round. On a noisy machine a median over rounds of one server, divided by a
 * median of another's, hides how far the ratio moved; the same ratio taken round by round (the two
 * runs minutes apart, not a whole run apart) shows its spread, and whether an aim held in every
 * round or only in the middle one.
 */

/** req/s of every round, in round order, of one server for one operation. */
export type Rounds = number[];

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** `numerator[i] ÷ denominator[i]` for every round both have. */
export function roundRatios(numerator: Rounds, denominator: Rounds): number[] {
  return numerator.slice(0, denominator.length).map((value, i) => value / (denominator[i] as number));
}

/** "1.12 (0.98–1.30)": the median of the rounds' ratios and their range. */
export function describe(ratios: number[]): string {
  if (ratios.length === 0) return "";
  const [low, high] = [Math.min(...ratios), Math.max(...ratios)];
  return ratios.length === 1
    ? median(ratios).toFixed(2)
    : `${median(ratios).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`;
}
