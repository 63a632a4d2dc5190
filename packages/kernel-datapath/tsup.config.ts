import { packageBuild } from '../../tsup.base';

// Named entries: dist/cli.cjs is what bin/ovs-kernel.js requires.
export default packageBuild({ index: 'src/index.ts', testing: 'src/testing/index.ts' }, { cli: 'src/tools/cli.ts' });
