import { packageBuild } from '../../tsup.base';

// Named entries: dist/cli.js is where bin/ovs-kernel.js loads it.
export default packageBuild({ index: 'src/index.ts', testing: 'src/testing/index.ts' }, { cli: 'src/tools/cli.ts' });
