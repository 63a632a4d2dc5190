/**
 * @ovs/util: the pieces of OVS's lib/ that every tool shares and that belong
 * to no layer of the stack.
 */
export { GetoptError, Getopt, getoptLong } from './command-line.js';
export type { CommandLine, LongOption, ParsedOption } from './command-line.js';
export {
  COVERAGE_RUN_INTERVAL,
  CoverageCounter,
  coverageCounters,
  coverageDefine,
  coverageHash,
  coverageInit,
  coverageRead,
  coverageReadCounter,
  coverageReset,
  coverageRun,
} from './coverage.js';
export type { CoverageUnixctl } from './coverage.js';
export { hash2Words, hashBytes, hashInt, hashString, mhashAdd, mhashFinish } from './hash.js';
