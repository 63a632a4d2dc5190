// Parse a typical ovs-vsctl command line (global options, then the commands left alone) many times.
//   pnpm --filter @ovs/util bench
import os from 'node:os';
import { Getopt } from '@ovs/util';

const options = ['db', 'timeout', 'format', 'data'].map((name) => ({ name, arg: 'required', short: name[0] }));
options.push(...['oneline', 'no-wait', 'dry-run', 'retry', 'bare', 'pretty'].map((name) => ({ name, arg: 'no' })));
const argv = ['--db=unix:/run/db.sock', '--no-w', '-t', '5', '--oneline', '--bare', 'add-port', 'br0', 'p0', '--', 'set', 'Interface', 'p0', 'type=internal'];
const N = 200_000;
let n = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) n += new Getopt(argv, options, 'require-order').all().length;
const ms = performance.now() - t0;
console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
console.log(`getopt_long: ${((N / ms) * 1000).toFixed(0)} command lines/s (${n / N} options each)`);
