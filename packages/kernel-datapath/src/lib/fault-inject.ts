/**
 * Fault injection (lib/fault-inject.c, Documentation/fault-injection/):
 * named fault points, each with Linux's `struct fault_attr` knobs
 * (probability, interval, times, space, verbose) and Linux's `should_fail()`
 * deciding, call by call, whether this one fails.
 *
 * The points of the model, and where they are consulted:
 *
 *  - `failslab`: the allocations that make the objects a switch creates —
 *    `struct datapath` (ovs_dp_cmd_new), `struct vport` (ovs_vport_alloc) and
 *    `struct net_device` (alloc_netdev_mqs: internal and tunnel vports,
 *    rtnl_create_link). A failure is -ENOMEM and the caller unwinds as the
 *    kernel does. (Linux's failslab hits every kmem_cache_alloc; the model has
 *    only these sites, so "the Nth call" counts only them.)
 *  - `fail_request_module`: request_module() finds no module to load (a broken
 *    or missing vport-vxlan.ko, say): ovs_vport_add() then answers
 *    -EAFNOSUPPORT, and rtnl_newlink() "Unknown device type" for a link kind
 *    whose module is not loaded yet. (Linux has no fault attribute for
 *    request_module; this one behaves like the others.)
 *  - `fail_netlink_create`: socket(AF_NETLINK) fails in sk_alloc() with
 *    -ENOMEM (netlink_create → __netlink_create): the socket, or an upcall
 *    channel, cannot be created. Over the daemon: HELLO answered ENOMEM.
 *
 * `space` counts calls here (each call has size 1; the kernel counts bytes
 * for failslab): with space N the Nth call is the first that may fail. So
 * "fail the Nth call and the next K" is `{ space: N, times: K + 1 }` (with
 * interval 1, probability 100), which `failNth()` spells out.
 */
import { Errno, NetlinkErrnoError } from '@ovs/genl-codec';
import type { Ftrace } from '../kernel/trace/ftrace.js';

export const FAULT_POINTS = ['failslab', 'fail_request_module', 'fail_netlink_create'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** The knobs of struct fault_attr (debugfs: /sys/kernel/debug/<point>/). */
export interface FaultAttr {
  /** Percent chance (0..100) that a call which passes the other checks fails; 0 turns the point off. */
  probability: number;
  /** Only every interval-th call that passes `space` may fail (1: each). */
  interval: number;
  /** How many failures are left; -1 without limit. */
  times: number;
  /** Calls that pass before any may fail (each call takes 1; see above). */
  space: number;
  /** fail_dump(): 0 quiet, 1 and 2 log each failure (the model logs, it has no stack to dump). */
  verbose: number;
}

/** What `show` reports of a point: its knobs, the interval counter, and the failures it forced. */
export interface FaultPointState extends FaultAttr {
  point: FaultPoint;
  /** attr->count (calls counted for `interval`). */
  count: number;
  /** Failures forced since the point was last set or cleared. */
  injected: number;
}

/** DECLARE_FAULT_ATTR()'s values: off (probability 0), interval 1, times 1. */
export const FAULT_ATTR_DEFAULT: Readonly<FaultAttr> = { probability: 0, interval: 1, times: 1, space: 0, verbose: 2 };

/** One line of what fail_dump() printed, kept like dmesg. */
export interface FaultLogEntry {
  point: FaultPoint;
  /** The kernel function the failing call was made for (e.g. "ovs_vport_alloc"). */
  site: string;
}

const MAX_LOG = 256;

export class FaultInjection {
  private readonly attrs = new Map<FaultPoint, FaultPointState>();
  /** The last failures forced (newest last), at most MAX_LOG. */
  readonly log: FaultLogEntry[] = [];
  private rng: number;

  constructor(
    private readonly ftrace?: Ftrace,
    /** Seed of the generator behind `probability` (prandom_u32_max), so runs repeat. */
    seed = 1,
  ) {
    this.rng = seed >>> 0 || 1;
    for (const p of FAULT_POINTS) this.attrs.set(p, fresh(p));
  }

  /**
   * Write a point's knobs (those given; the others keep their values). The
   * interval and injected counters restart. Throws EINVAL (nothing changed)
   * for an unknown point or a value the debugfs file would refuse.
   */
  set(point: string, attrs: Partial<FaultAttr>): FaultPointState {
    const st = this.state(point);
    const next: FaultAttr = { ...pick(st), ...attrs };
    checkAttr(next);
    Object.assign(st, next, { count: 0, injected: 0 });
    return { ...st };
  }

  /** Fail the nth call from now and the `more` calls after it (probability 100, interval 1). */
  failNth(point: string, nth: number, more = 0): FaultPointState {
    if (!Number.isInteger(nth) || nth < 1 || !Number.isInteger(more) || more < 0) throw new NetlinkErrnoError(Errno.EINVAL);
    return this.set(point, { probability: 100, interval: 1, space: nth, times: more + 1 });
  }

  /** Back to the defaults (off): one point, or all of them. */
  clear(point?: string): void {
    if (point === undefined) {
      for (const p of FAULT_POINTS) this.attrs.set(p, fresh(p));
      this.log.length = 0;
      return;
    }
    this.state(point);
    this.attrs.set(point as FaultPoint, fresh(point as FaultPoint));
  }

  /** Every point's state, in FAULT_POINTS order. */
  show(): FaultPointState[] {
    return FAULT_POINTS.map((p) => ({ ...this.attrs.get(p)! }));
  }

  /** should_fail(): whether this call at `point` fails now. */
  shouldFail(point: FaultPoint, site: string): boolean {
    const a = this.attrs.get(point)!;
    if (a.probability === 0) return false;
    if (a.times === 0) return false;
    if (a.space > 1) {
      a.space--;
      return false;
    }
    if (a.interval > 1) {
      a.count++;
      if (a.count % a.interval) return false;
    }
    if (a.probability <= this.random100()) return false;
    // fail_dump()
    if (a.verbose > 0) {
      this.log.push({ point, site });
      if (this.log.length > MAX_LOG) this.log.shift();
    }
    this.ftrace?.event('kernel', 'should_fail', `${point}: forcing a failure in ${site}`);
    if (a.times !== -1) a.times--;
    a.injected++;
    return true;
  }

  /** should_fail() as an errno: throws `errno` (ENOMEM by default) when the call fails. */
  check(point: FaultPoint, site: string, errno = Errno.ENOMEM): void {
    if (this.shouldFail(point, site)) throw new NetlinkErrnoError(errno);
  }

  private state(point: string): FaultPointState {
    const st = this.attrs.get(point as FaultPoint);
    if (st === undefined) throw new NetlinkErrnoError(Errno.EINVAL, `no fault point ${JSON.stringify(point)} (${FAULT_POINTS.join(', ')})`);
    return st;
  }

  /** prandom_u32_max(100), from a xorshift32 generator. */
  private random100(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng % 100;
  }
}

function fresh(point: FaultPoint): FaultPointState {
  return { point, ...FAULT_ATTR_DEFAULT, count: 0, injected: 0 };
}

function pick(st: FaultPointState): FaultAttr {
  return { probability: st.probability, interval: st.interval, times: st.times, space: st.space, verbose: st.verbose };
}

/** What the debugfs files accept (probability is a percentage, interval at least 1). */
function checkAttr(a: FaultAttr): void {
  const ok =
    Number.isInteger(a.probability) &&
    a.probability >= 0 &&
    a.probability <= 100 &&
    Number.isInteger(a.interval) &&
    a.interval >= 1 &&
    a.interval <= 0xffffffff &&
    Number.isInteger(a.times) &&
    a.times >= -1 &&
    a.times <= 0x7fffffff &&
    Number.isInteger(a.space) &&
    a.space >= 0 &&
    a.space <= 0x7fffffff &&
    Number.isInteger(a.verbose) &&
    a.verbose >= 0 &&
    a.verbose <= 2;
  if (!ok) throw new NetlinkErrnoError(Errno.EINVAL, 'fault attribute out of range');
}
