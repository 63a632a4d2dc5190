import { packageBuild } from '../../tsup.base';

// Named entries keep dist/cli.js where bin/ovs-kernel.js loads it.
export default packageBuild({ index: 'src/index.ts', cli: 'src/tools/cli.ts', testing: 'src/testing/index.ts' });
