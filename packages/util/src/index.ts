/**
 * @ovs/util: the pieces of OVS's lib/ that every tool shares and that belong
 * to no layer of the stack.
 */
export { GetoptError, Getopt, getoptLong } from './command-line.js';
export type { CommandLine, LongOption, ParsedOption } from './command-line.js';
