/**
 * @ovs/ofproto: bridges as OpenFlow switches over a datapath
 * (ofproto/ofproto.c, ofproto/ofproto-dpif.c, ofproto/tunnel.c): OpenFlow
 * port numbers, the datapath backer shared by the bridges of a type, tunnel
 * backers and ghost ports.
 */
export { DpifBacker } from './backer.js';
export type { BackerClient, IfaceHint, OfprotoEnv } from './backer.js';
export { LINUX_6_1_SUPPORT, dpSupport, dpifShowSupport } from './dp-features.js';
export type { DpFeature, DpifBackerSupport } from './dp-features.js';
export { dpifShowBacker } from './dpif-show.js';
export { Ofproto } from './ofproto.js';
export type { OfprotoPort } from './ofproto.js';
export { OFPP_LOCAL, OFPP_MAX, OFPP_NONE, OfprotoError } from './ofport.js';
export type { Ofport, OfprotoLog } from './ofport.js';
export { TnlPorts } from './tnl-ports.js';
export { TunnelPorts, tnlMatch, tnlMatchFormat } from './tunnel.js';
export type { TnlMatch } from './tunnel.js';
