/**
 * "Did you mean …?": the closest of a few known names to one typed by a person, if it is close
 * enough to be a typo (scope names, CLI commands).
 */

/**
 * Levenshtein distance (insertions, deletions, substitutions).
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** How names are compared, and how far a typo may be from the name meant. */
export interface ClosestOptions {
  /** Applied to both sides before comparing (e.g. case folding). Default: lower case. */
  normalize?: (name: string) => string;
  /** The largest distance still taken for a typo, given the normalized input. Default: a third of its length, at least 1. */
  maxDistance?: (normalized: string) => number;
}

/**
 * The candidate closest to `input`, or undefined when none is close enough. A candidate equal
 * after normalizing wins outright.
 */
export function closestName(
  input: string,
  candidates: readonly string[],
  options: ClosestOptions = {},
): string | undefined {
  const normalize = options.normalize ?? ((name: string) => name.toLowerCase());
  const maxDistance = options.maxDistance ?? ((name: string) => Math.max(1, Math.floor(name.length / 3)));
  const wanted = normalize(input.trim());
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(wanted, normalize(candidate));
    if (d === 0) return candidate;
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= maxDistance(wanted) ? best : undefined;
}
