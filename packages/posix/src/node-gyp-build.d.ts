declare module 'node-gyp-build' {
  /** Load the addon of the package in `dir` (build/Release, build/Debug, then prebuilds/). */
  function load(dir: string): unknown;
  namespace load {
    /** The path of the .node file load(dir) would load; throws if none matches this platform. */
    function path(dir: string): string;
  }
  export default load;
}
