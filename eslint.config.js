import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'proto/gen/**', '.vitalwire/**', 'dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // Issue 14: private parts of Aedes, mqtt-packet and ioredis are reached through one adapter only, which checks the
    // installed versions at start-up (broker/aedes-internals/index.ts). Underscored fields are the visible cases.
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    ignores: ['broker/aedes-internals/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[property.name=/^_[A-Za-z]/]',
          message: 'a private field of a dependency: go through broker/aedes-internals',
        },
        {
          selector: "MemberExpression[property.name='waitForDrain']",
          message: 'an Aedes internal: go through broker/aedes-internals',
        },
        {
          selector: 'CallExpression > Literal[value=/^(aedes|mqtt-packet|ioredis)\\u002F/]',
          message: 'a private file of a dependency: go through broker/aedes-internals',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aedes/*', 'mqtt-packet/*', 'ioredis/*'],
              message: 'a private file of a dependency: go through broker/aedes-internals',
            },
            {
              group: ['**/aedes-internals/*', '!**/aedes-internals/index.js'],
              message: 'the adapter is broker/aedes-internals/index.ts',
            },
          ],
        },
      ],
    },
  },
);
