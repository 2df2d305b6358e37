// ESLint flat config: recommended JS + typescript-eslint rules, and the house guardrails (function and line length, no import cycles, layers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * What src/ops may import from the kernel layer: `kernels()` and the backend switches (select.ts) and the
 * Kernels interface with its argument types (kernels.ts, which re-exports families.ts). Everything else under
 * src/kernels (backends, SIMD modules, loops, dispatch) is reached through `kernels().<family>`.
 */
const KERNEL_INTERNALS = {
  group: ['**/kernels/*', '**/kernels/**/*', '!**/kernels/select.js', '!**/kernels/kernels.js'],
  message: 'ops reach the kernel layer through kernels() (kernels/select.js) and its types (kernels/kernels.js) only.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'runs/**', 'test/fixtures/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // 150 columns everywhere. URLs cannot be wrapped, so they may run long; strings and template literals may not
      // (an error message splits at a clause with +, and a long literal usually wants to be a named constant).
      'max-len': ['error', { code: 150, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  // Import cycles: resolved the way tsc resolves them ('./x.js' -> x.ts), across the library, tests and the web page.
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      // .ts files are modules to follow (the default is .js only), parsed by typescript-eslint's parser.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'web/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  // A function fits on a screen. A kernel that is long for speed may opt out with
  // `// eslint-disable-next-line max-lines-per-function -- <why>` above it.
  {
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  // Ops call kernels through the Kernels interface, never a backend or a family's dispatch directly.
  {
    files: ['src/ops/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [KERNEL_INTERNALS] }] },
  },
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
