/** ovs-vswitchd's version, as --version and the Open_vSwitch row give it. */
export const VERSION = '0.1.0';
