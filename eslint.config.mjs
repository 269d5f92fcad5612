// One lint configuration for src/, test/, bench/ and examples/: typescript-eslint with type-aware
// rules for TypeScript, the recommended rules for the plain JavaScript scripts. Formatting is
// Prettier's job (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/fixtures/', 'test/journal/fixtures/'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.mts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Tests read parsed JSON and use vitest's asymmetric matchers (typed `any` by vitest).
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // Wrappers of Node's built-ins forward `arguments` untouched: no array per call on the I/O path,
    // and the original sees exactly the arity the app passed.
    // Their saved originals are always called with the receiver the app used (Reflect.apply, .call).
    files: ['src/instrumentation/**/*.ts'],
    rules: { 'prefer-rest-params': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
