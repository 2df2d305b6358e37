// The README's library example, taken from README.md as it stands, type-checked and run against src/ so it cannot rot.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';
import * as bnlab from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECTION = '## The library';

/** The ```ts blocks between the README's library heading and the next level-2 heading. */
function librarySnippets(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no '${SECTION}' section (this test reads its code blocks)`);
  const end = readme.indexOf('\n## ', start + SECTION.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The names a snippet imports from 'bnlab', and its code without that import. */
function splitImport(code: string): { names: string[]; body: string } {
  const re = /^import\s*\{([^}]*)\}\s*from\s*'bnlab';\s*$/m;
  const m = re.exec(code);
  if (m === null) throw new Error(`README library example: expected one "import { ... } from 'bnlab';" line, got:\n${code}`);
  const names = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { names, body: code.replace(re, '') };
}

/** Type errors of the snippet compiled against src/ ('bnlab' mapped to src/index.ts), as tsc would print them. */
function typeErrors(code: string): string[] {
  const file = path.join(ROOT, 'test', '__readme_example__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    baseUrl: ROOT, paths: { bnlab: ['src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? code : read(f));
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  const base = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (path.resolve(f) === file ? ts.createSourceFile(f, code, lang) : base(f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Runs a snippet's code with the imported names bound to src/'s exports; returns its top-level constants. */
function run(names: string[], body: string): Record<string, unknown> {
  for (const n of names) if (!(n in bnlab)) throw new Error(`README library example imports '${n}', which src/index.ts does not export`);
  const consts = [...body.matchAll(/^const (\w+)\s*=/gm)].map((m) => m[1]);
  const js = ts.transpileModule(`${body}\nreturn { ${consts.join(', ')} };`, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
  }).outputText;
  const fn = new Function(...names, js) as (...args: unknown[]) => Record<string, unknown>;
  return fn(...names.map((n) => (bnlab as Record<string, unknown>)[n]));
}

describe("README's library example", () => {
  const snippets = librarySnippets();

  it('is there: one TypeScript block importing from bnlab', () => {
    expect(snippets.length).toBeGreaterThan(0);
    for (const s of snippets) expect(s).toMatch(/from 'bnlab'/);
  });

  it('type-checks against the source', () => {
    for (const s of snippets) expect(typeErrors(s)).toEqual([]);
  }, 120_000);

  it('the check itself catches rot: a renamed export and a wrong argument are type errors', () => {
    const errs = typeErrors("import { Linear, BatchNorm3d } from 'bnlab';\nconst m = new Linear('784', 100);\n");
    expect(errs.join('\n')).toMatch(/BatchNorm3d/);
    expect(errs.join('\n')).toMatch(/'string' is not assignable to parameter of type 'number'/);
  }, 120_000);

  it('runs and does what its comments say: a finite loss, eval logits (60, 10), PyTorch state dict keys', () => {
    const [first] = snippets;
    const { names, body } = splitImport(first);
    const out = run(names, body);
    const loss = out.loss as bnlab.Tensor;
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.item())).toBe(true);
    const logits = out.logits as bnlab.Tensor;
    expect(logits.shape).toEqual([60, 10]);
    expect(logits.data.every(Number.isFinite)).toBe(true);
    const model = out.model as bnlab.Module;
    expect(model.training).toBe(false);
    expect(Object.keys(model.stateDict())).toEqual(expect.arrayContaining(['1.running_mean', '1.num_batches_tracked']));
    // One training step moved the running mean off its initial zeros (BN saw a batch in training mode).
    expect(model.stateDict()['1.running_mean'].data.some((v) => v !== 0)).toBe(true);
  });
});
