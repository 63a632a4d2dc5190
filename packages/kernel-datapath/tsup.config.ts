import { packageBuild } from '../../tsup.base';

// Named entries: dist/cli.cjs is what bin/ovs-kernel.js requires; the kernel model (daemon, replay) is
// in files of its own that cli.cjs requires for `start` and `replay` only.
export default packageBuild(
  { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  { cli: 'src/tools/cli.ts', 'kernel-daemon': 'src/tools/daemon.ts', 'kernel-replay': 'src/tools/replay.ts' },
);
