/**
 * What a datapath backer supports (ofproto/ofproto-dpif.h's struct
 * dpif_backer_support, lib/odp-util.h's struct odp_support) and
 * `ovs-appctl dpif/show-dp-features BRIDGE` (ofproto-dpif.c's
 * dpif_show_support(): "TITLE: Yes|No" or "TITLE: N", one line per field, in
 * the order of DPIF_SUPPORT_FIELDS then ODP_SUPPORT_FIELDS).
 *
 * OVS fills the struct by probing the datapath at start-up (check_support():
 * flows put and packets executed with each feature). This stack sends no flow
 * or packet commands (the kernel model has neither), so the kernel datapath's
 * support is what OVS 3.1 probes on Linux 6.1's openvswitch module, the
 * kernel this stack models — recorded in the kernel lab
 * (kernel-lab/appctl.sh of @ovs/vswitchd), not probed.
 */

/** One field: its title as OVS prints it, and its value (bool fields Yes/No, size_t fields a number). */
export interface DpFeature {
  readonly title: string;
  readonly value: boolean | number;
}

/** struct dpif_backer_support with its odp_support, as dpif_show_support() lists it. */
export type DpifBackerSupport = readonly DpFeature[];

const f = (title: string, value: boolean | number): DpFeature => ({ title, value });

/** Linux 6.1's openvswitch module as OVS 3.1's check_support() finds it (`dpif/show-dp-features` in the kernel lab, 2026-12-07). */
export const LINUX_6_1_SUPPORT: DpifBackerSupport = [
  // DPIF_SUPPORT_FIELDS
  f('Masked set action', true),
  f('Tunnel push pop', false),
  f('Ufid', true),
  f('Truncate action', true),
  f('Clone action', true),
  f('Sample nesting', 10),
  f('Conntrack eventmask', true),
  f('Conntrack clear', true),
  f('Max dp_hash algorithm', 0),
  f('Check pkt length action', true),
  f('Conntrack timeout policy', true),
  f('Explicit Drop action', false),
  f('Optimized Balance TCP mode', false),
  f('Conntrack all-zero IP SNAT', true),
  f('MPLS Label add', true),
  // ODP_SUPPORT_FIELDS
  f('Max VLAN headers', 2),
  f('Max MPLS depth', 3),
  f('Recirc', true),
  f('CT state', true),
  f('CT zone', true),
  f('CT mark', true),
  f('CT label', true),
  f('CT state NAT', true),
  f('CT orig tuple', true),
  f('CT orig tuple for IPv6', true),
  f('IPv6 ND Extension', false),
];

/** The value of the field titled `title`. */
export function dpSupport(support: DpifBackerSupport, title: string): boolean | number | undefined {
  return support.find((x) => x.title === title)?.value;
}

/** dpif_show_support(): the lines of `dpif/show-dp-features`. */
export function dpifShowSupport(support: DpifBackerSupport): string[] {
  return support.map(({ title, value }) => `${title}: ${typeof value === 'boolean' ? (value ? 'Yes' : 'No') : value}`);
}
