import { packageBuild } from '../../tsup.base';

export default packageBuild(['src/index.ts', 'src/cli.ts', 'src/transport/unix.ts', 'src/testing/index.ts']);
