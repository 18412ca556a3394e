import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The layers: core is the product and knows nothing of GitHub or of its adapters. */
const CORE_LAYER_PATTERNS = [
  {
    group: ['@actions/*'],
    message:
      'src/core must not know GitHub: put @actions/* use in src/actions or src/adapters behind a port.',
  },
  {
    group: ['**/actions/**', '**/cli/**', '**/adapters/**'],
    message: 'imports point down: src/core must not import an adapter (src/actions, src/cli, src/adapters).',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', 'bench-out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...CORE_LAYER_PATTERNS],
        },
      ],
    },
  },
  {
    // Engines read and write streams they are handed; where bundles are stored is the use case's business.
    files: ['src/core/engines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...CORE_LAYER_PATTERNS,
            {
              group: ['**/stores/**'],
              message:
                'engines must not depend on stores: take a stream or a path from the use case instead.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'scripts/**', 'examples/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
