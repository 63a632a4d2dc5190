/**
 * The README's TypeScript examples run verbatim: each ```ts block is
 * type-checked against the source, then transpiled and run against the
 * built package (dist/, built before the tests run), with its output kept
 * quiet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'genl-codec-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('there are examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it('type-check', () => {
    const files = blocks.map((code, i) => {
      const file = join(dir, `example-${i + 1}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: ['node'],
      typeRoots: [fileURLToPath(new URL('../../../node_modules/@types', import.meta.url))],
      skipLibCheck: true,
      noEmit: true,
      paths: { '@ovs/genl-codec': [fileURLToPath(new URL('./index.ts', import.meta.url))] },
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(dir, 'README')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
  }, 60_000); // a whole program: seconds on a loaded machine

  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs`, async () => {
      const js = ts
        .transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
        .outputText.replaceAll("'@ovs/genl-codec'", JSON.stringify(dist('index.js')));
      const file = join(dir, `example-${i + 1}.mjs`);
      writeFileSync(file, js);
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        log.mockRestore();
      }
    });
  });
});
