/**
 * @ovs/vswitchd: the switch as a user runs it — ovs-vswitchd's bridge layer
 * (vswitchd/bridge.c) between the database and ofproto, the daemon with its
 * control socket, ovs-appctl, and ovs-sandbox.
 */
export { Bridge, BridgeLayer } from './bridge.js';
export type { Iface, Port } from './bridge.js';
export { hashString, shashOrder } from '@ovs/util';
export { VERSION, Vswitchd } from './vswitchd.js';
export type { VswitchdOptions } from './vswitchd.js';
export { Vlog } from '@ovs/util';
export type { Level, VlogOptions } from '@ovs/util';
export { rundir } from './paths.js';
