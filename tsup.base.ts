import { readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { type Options, defineConfig } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * A package's build, for Node 20:
 * - `entry`: what it publishes as a library — ESM and CJS with declarations;
 * - `cli`: its command-line entries (`{ name: 'src/file.ts' }` → `dist/name.cjs`, what `bin/*.js` require) —
 *   each one CommonJS file with the workspace's `@ovs/*` packages inlined and tree-shaken, minified (with
 *   a source map beside it), Node's own modules loaded when first used (lazyBuiltins). Every
 *   `ovs-vsctl` call pays for what it loads and compiles before it does anything, and CommonJS spares
 *   it Node's ES module loader (about 10 ms a call here); see the root README, "Fast tools". Code a
 *   command reaches only through `await import()` is in the same file, evaluated when that command
 *   runs — unless that module is itself one of the `cli` entries: then it stays a file of its own,
 *   required when the command runs (cliChunks), so that the commands that do not need it do not
 *   compile it either. `import.meta.url` is shimmed from `__filename` (tsup's `shims`).
 *
 * Both builds write to `dist/`, so `dist/` is emptied here once, before either starts (tsup runs the
 * two configurations side by side and its own `clean` in one would race the other's output).
 */
export function packageBuild(entry: Options['entry'], cli?: Record<string, string>) {
  rmSync('dist', { recursive: true, force: true });
  const shared = { sourcemap: true, clean: false, target: 'node20', esbuildPlugins: [jsonParsePlugin] } satisfies Options;
  const lib: Options = { ...shared, entry, format: ['esm', 'cjs'], dts: true };
  if (!cli) return defineConfig(lib);
  return defineConfig([
    lib,
    {
      ...shared,
      entry: cli,
      format: ['cjs'],
      dts: false,
      splitting: false,
      shims: true,
      noExternal: [WORKSPACE_INLINED],
      minify: true,
      removeNodeProtocol: false,
      // import() of a chunk becomes require(): no ES module loader for a CommonJS file.
      esbuildOptions: (options) => {
        options.supported = { ...options.supported, 'dynamic-import': false };
      },
      esbuildPlugins: [cliChunks(cli), lazyBuiltins, jsonParsePlugin, declaredExternals()],
    },
  ]);
}

/**
 * `await import('./daemon.js')` where src/…/daemon.ts is itself a CLI entry: the bundle requires that
 * entry's own file (`./daemon.cjs`) when the import runs instead of inlining it. `ovs-kernel ip link
 * show` then compiles the client, not the kernel model it talks to. The chunk has its own copies of
 * the modules both use, so what crosses between them is plain data, functions and the chunk's own
 * classes.
 */
function cliChunks(cli: Record<string, string>): Plugin {
  const chunkOf = new Map(Object.entries(cli).map(([name, file]) => [resolve(file), name]));
  return {
    name: 'cli-chunks',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const name = chunkOf.get(resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')));
        return name === undefined ? undefined : { path: `./${name}.cjs`, external: true };
      });
    },
  };
}

/**
 * The workspace packages a CLI bundle inlines: all but @ovs/posix, whose native addon is found from its
 * own package directory: lazyBuiltins makes it a `require('@ovs/posix')` at first use (it is listed
 * here so that tsup's own external rule does not take it before that plugin sees it).
 */
const WORKSPACE_INLINED = /^@ovs\//;

/**
 * A JSON module as `JSON.parse('…')` instead of an object literal: V8 parses a JSON string several
 * times faster than the same data as JavaScript (the 27 KB vswitch schema is loaded by every tool).
 */
const jsonParsePlugin: Plugin = {
  name: 'json-parse',
  setup(build) {
    build.onLoad({ filter: /\.json$/ }, (args) => {
      const text = JSON.stringify(JSON.parse(readFileSync(args.path, 'utf8')));
      return { contents: `export default JSON.parse(${JSON.stringify(text)});\n`, loader: 'js' };
    });
  },
};

const LAZY = 'lazy-builtin';
/** The one package outside the bundle, loaded lazily too: finding it and loading its addon is a few ms. */
const POSIX = '@ovs/posix';
const LAZY_REQUIRE = '#lazy-builtin-require';

/**
 * Node's built-in modules (and @ovs/posix), each loaded the first time one of its exports is used rather than when the
 * CLI starts: `import { connect } from 'node:tls'` costs a tool that never opens an SSL connection
 * nothing. (Imported as ESM, a built-in is loaded at once, and Node builds its ESM facade by reading
 * every export — `fs`'s lazy `ReadStream` getter loads all of Node's streams.) Each built-in becomes a
 * small CommonJS module whose exports `require()` the real one when first read; esbuild reads a
 * CommonJS module's exports where they are used, so `new`, `instanceof`, `extends` and constants keep
 * their meaning — only the moment of loading moves.
 */
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^#lazy-builtin-require$/ }, () => ({ path: LAZY_REQUIRE, namespace: LAZY }));
    build.onResolve({ filter: /^(?:node:)?[a-z_/]+$|^@ovs\/posix$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.namespace === LAZY || name === 'module' || !(isBuiltin(name) || name === POSIX)) return undefined;
      return { path: name, namespace: LAZY };
    });
    build.onLoad({ filter: /.*/, namespace: LAZY }, (args) => {
      if (args.path === LAZY_REQUIRE) {
        return { contents: "import { createRequire } from 'node:module';\nexport const req = createRequire(import.meta.url);\n", loader: 'js' };
      }
      // No export is read before it is used: esbuild's interop object inherits from the exports, whose
      // prototype is a proxy that loads the module on the first property read (`__esModule` excepted).
      return {
        contents: [
          `const { req } = require('${LAZY_REQUIRE}');`,
          'let real;',
          `const load = () => (real ??= req(${JSON.stringify(args.path === POSIX ? POSIX : `node:${args.path}`)}));`,
          "module.exports = Object.create(new Proxy({}, { get: (_, key) => (key === '__esModule' ? undefined : load()[key]), has: (_, key) => key in load() }));",
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * A bundle's packages from outside it — imported, or named in a string (`createRequire(...)('@ovs/posix')`)
 * — must be dependencies of the package that ships the bundle, or it fails once installed with npm.
 */
function declaredExternals(): Plugin {
  return {
    name: 'declared-externals',
    setup(build) {
      build.onEnd((result) => {
        if (result.errors.length) return;
        const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
          name: string;
          dependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
        };
        const declared = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
        const used = new Set<string>();
        for (const out of Object.values(result.metafile?.outputs ?? {})) {
          for (const i of out.imports) if (i.external && !i.path.startsWith('.') && !i.path.startsWith('node:')) used.add(i.path);
        }
        for (const file of result.outputFiles ?? []) {
          if (/\.c?js$/.test(file.path)) for (const m of file.text.matchAll(/["'`](@ovs\/[\w-]+)(?:\/[\w./-]*)?["'`]/g)) used.add(m[1] as string);
        }
        const BUILTIN =
          /^(?:assert|async_hooks|buffer|child_process|crypto|dgram|dns|events|fs|fs\/promises|module|net|os|path|perf_hooks|process|readline|stream|string_decoder|timers|tls|tty|url|util|v8|vm|worker_threads|zlib)$/;
        const missing = [...used]
          .filter((p) => !BUILTIN.test(p))
          .map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : (p.split('/')[0] as string)))
          .filter((name) => !declared.has(name));
        if (missing.length) {
          return {
            errors: [{ text: `${pkg.name}: its CLI bundle needs ${[...new Set(missing)].join(', ')} at run time; declare it in "dependencies"` }],
          };
        }
      });
    },
  };
}
