/**
 * @ovs/openflow: OpenFlow for the Open vSwitch port-management stack. The
 * wire codec (OpenFlow 1.0-1.5: hello with version bitmaps, error, echo,
 * features, switch config, barrier, port descriptions), a bridge's
 * management listener (OpenflowMgmtServer, the punix:$OVS_RUNDIR/<bridge>.mgmt
 * socket) and ovs-ofctl's `show`.
 */
export * from './constants.js';
export * from './errors.js';
export * from './codec.js';
export * from './port.js';
export * from './print.js';
export * from './ofproto.js';
export { OpenflowMgmtServer, type OpenflowLog, type OpenflowMgmtServerOptions, type OpenflowSwitch } from './server.js';
export { Vconn, VconnError, XidAllocator, strerror, type VconnOptions } from './vconn.js';
export {
  ALARM_EXIT,
  OVS_VERSION,
  OfctlFatal,
  parseOptions,
  rundir,
  runOfctl,
  switchFeaturesHasPorts,
  usage,
  versionsFromString,
  type OfctlIo,
  type OfctlOptions,
} from './ofctl.js';
