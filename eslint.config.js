// ESLint flat config: typescript-eslint recommended rules over the whole repo, and the layering of the
// engine: model/ sits below train/, and src/data sits below src/engine (the engine may import data, never
// the reverse; what both need, such as UserError, lives in src/errors.ts).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules', 'dist', 'e2e-artifacts', 'test-results', 'public', 'tests/fixtures', '**/dist'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/engine/model/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)train(/|$)',
              message: 'src/engine/model sits below src/engine/train: move what both need into model/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/data/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(engine|workers|ui|cli)(/|$)',
              message: 'src/data sits below src/engine: move what both need into src/data or src/errors.ts.',
            },
          ],
        },
      ],
    },
  },
);
