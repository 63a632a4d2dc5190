/**
 * lib/coverage.c: event counters that cost one addition where they are
 * counted (COVERAGE_DEFINE / COVERAGE_INC), their per-second averages over
 * the last 5 seconds, minute and hour, and the `coverage/show` and
 * `coverage/read-counter` commands of a daemon's control socket.
 *
 * One process has one set of counters, in the order they were defined (the
 * C registers them from constructors, in link order; here, in module
 * evaluation order). A JavaScript process has one thread, so an increment
 * goes straight to the total (the C's per-thread counts and coverage_clear()
 * have nothing to gather).
 */
import { hashInt, hashString } from './hash.js';

/** COVERAGE_RUN_INTERVAL: coverage_run() folds the counts into the averages every 5 s. */
export const COVERAGE_RUN_INTERVAL = 5000;
/** MIN_AVG_LEN: the 5-second slots of a minute. */
const MIN_AVG_LEN = 60000 / COVERAGE_RUN_INTERVAL;
/** HR_AVG_LEN: the minutes of an hour. */
const HR_AVG_LEN = 60;

/** struct coverage_counter. */
export class CoverageCounter {
  /** Events counted since the process started. */
  total = 0;
  lastTotal = 0;
  /** The counts of the last minute's 5-second slots. */
  readonly min = new Array<number>(MIN_AVG_LEN).fill(0);
  /** The counts of the last hour's minutes. */
  readonly hr = new Array<number>(HR_AVG_LEN).fill(0);

  constructor(readonly name: string) {}

  /** COVERAGE_INC(). */
  inc(): void {
    this.total++;
  }

  /** COVERAGE_ADD(). */
  add(n: number): void {
    this.total += n;
  }
}

/** The process's counters and the averaging state (coverage.c's statics). */
interface CoverageState {
  readonly counters: CoverageCounter[];
  readonly byName: Map<string, CoverageCounter>;
  /** coverage_run_time: when the next run is due (undefined before the first call). */
  runTime: number | undefined;
  /** idx_count: the slot the next run fills. */
  idxCount: number;
}

// One registry per process, even if this module is loaded twice (its ESM and CJS builds).
const KEY = Symbol.for('@ovs/util/coverage');
const state: CoverageState = ((globalThis as Record<symbol, CoverageState | undefined>)[KEY] ??= {
  counters: [],
  byName: new Map(),
  runTime: undefined,
  idxCount: 0,
});

/**
 * COVERAGE_DEFINE(): the counter NAME, registered with the others. A second
 * definition of the same name gives the same counter.
 */
export function coverageDefine(name: string): CoverageCounter {
  let c = state.byName.get(name);
  if (!c) {
    c = new CoverageCounter(name);
    state.byName.set(name, c);
    state.counters.push(c);
  }
  return c;
}

/** Every counter, in definition order. */
export function coverageCounters(): readonly CoverageCounter[] {
  return state.counters;
}

/**
 * coverage_hash(): the counters grouped by equal totals (highest first, names
 * sorted within a group, never-hit ones left out), each group's rank and
 * names hashed — what identifies a "set of events" in coverage/show and the log.
 */
export function coverageHash(): number {
  const c = [...state.counters].sort((a, b) => (a.total !== b.total ? b.total - a.total : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let hash = 0;
  let nGroups = 0;
  for (let i = 0; i < c.length; ) {
    if (!c[i]!.total) break;
    nGroups++;
    hash = hashInt(i, hash);
    let j = i;
    for (; j < c.length && c[j]!.total === c[i]!.total; j++) hash = hashString(c[j]!.name, hash);
    i = j;
  }
  return hashInt(nGroups, hash);
}

const sum = (a: readonly number[]): number => a.reduce((s, x) => (s + x) >>> 0, 0);

/**
 * coverage_read(): the lines of `coverage/show` — the header with the hash,
 * each counter that was hit with its per-second rates over the last 5 seconds,
 * minute and hour and its total, then how many were never hit.
 */
export function coverageRead(): string[] {
  const hash = coverageHash();
  const lines = [
    `Event coverage, avg rate over last: ${COVERAGE_RUN_INTERVAL / 1000} seconds, last minute, last hour,  hash=${hash.toString(16).padStart(8, '0')}:`,
  ];
  let nNeverHit = 0;
  // (idx_count - 1) as the C's unsigned arithmetic computes it: before the first run, slot 3.
  const last = ((state.idxCount - 1) >>> 0) % MIN_AVG_LEN;
  for (const c of state.counters) {
    if (!c.total) {
      nNeverHit++;
      continue;
    }
    const now = (c.min[last]! * 1000) / COVERAGE_RUN_INTERVAL;
    const minute = sum(c.min) / 60;
    const hour = sum(c.hr) / 3600;
    lines.push(
      `${c.name.padEnd(24)} ${now.toFixed(1).padStart(5)}/sec ${minute.toFixed(3).padStart(9)}/sec ${hour.toFixed(4).padStart(13)}/sec   total: ${c.total}`,
    );
  }
  lines.push(`${nNeverHit} events never hit`);
  return lines;
}

/**
 * coverage_run(): when the 5-second interval is over, each counter's count
 * since the last run goes into the minute's slots (spread evenly over the
 * slots that passed, if the run is late) and into the hour's minutes.
 */
export function coverageRun(now: number = Date.now()): void {
  if (state.runTime === undefined) state.runTime = now + COVERAGE_RUN_INTERVAL;
  if (now < state.runTime) return;
  const slots = Math.floor((now - state.runTime) / COVERAGE_RUN_INTERVAL) + 1;
  for (const c of state.counters) {
    const count = (c.total - c.lastTotal) >>> 0;
    c.lastTotal = c.total;
    const portion = Math.floor(count / slots);
    let idx = state.idxCount;
    for (let j = 0; j < slots; j++) {
      const mIdx = idx % MIN_AVG_LEN;
      const hIdx = Math.floor(idx / MIN_AVG_LEN);
      c.min[mIdx] = portion + (j === slots - 1 ? count % slots : 0);
      c.hr[hIdx] = mIdx === 0 ? c.min[mIdx]! : (c.hr[hIdx]! + c.min[mIdx]!) >>> 0;
      idx = (idx + 1) % (MIN_AVG_LEN * HR_AVG_LEN);
    }
  }
  state.idxCount = (state.idxCount + slots) % (MIN_AVG_LEN * HR_AVG_LEN);
  state.runTime = now + COVERAGE_RUN_INTERVAL;
}

/** coverage_read_counter(): a counter's total, or undefined if there is no such counter. */
export function coverageReadCounter(name: string): number | undefined {
  return state.byName.get(name)?.total;
}

/** What coverage_init() needs of a control socket: unixctl_command_register(). */
export interface CoverageUnixctl {
  register(name: string, usage: string, min: number, max: number, handler: (args: string[]) => string | Promise<string>): void;
}

/**
 * coverage_init(): `coverage/show` (the lines of coverage_read()) and
 * `coverage/read-counter COUNTER` (its total, or the error "No such counter").
 */
export function coverageInit(unixctl: CoverageUnixctl): void {
  unixctl.register('coverage/show', '', 0, 0, () => `${coverageRead().join('\n')}\n`);
  unixctl.register('coverage/read-counter', 'COUNTER', 1, 1, (args) => {
    const count = coverageReadCounter(args[0]!);
    if (count === undefined) throw new Error('No such counter');
    return `${count}\n`;
  });
}

/** Forget every count (tests): totals, averages and the run clock; the counters stay defined. */
export function coverageReset(): void {
  for (const c of state.counters) {
    c.total = 0;
    c.lastTotal = 0;
    c.min.fill(0);
    c.hr.fill(0);
  }
  state.runTime = undefined;
  state.idxCount = 0;
}
