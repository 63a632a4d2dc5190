/**
 * lib/memory.c's report: the name-count pairs a daemon collects as a rough
 * measure of its memory use (ovsdb-server's atoms and cells, ovs-vswitchd's
 * ports...), shown by `ovs-appctl memory/show`.
 */

/** simap_increase(): adds `amount` to `name`'s count; a zero amount adds no entry. */
export function simapIncrease(usage: Map<string, number>, name: string, amount: number): void {
  if (amount) usage.set(name, (usage.get(name) ?? 0) + amount);
}

/** compose_report(): "name:count" pairs sorted by name (simap_sort()), space-separated. */
export function memoryReport(usage: ReadonlyMap<string, number>): string {
  return [...usage]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
}
