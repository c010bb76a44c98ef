// ESLint: TypeScript rules plus an import-boundary rule that enforces DESIGN.md's arrows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/** DESIGN.md "Rooms": which rooms each room may import. */
const ROOMS = {
  model: [],
  errors: ['model'],
  config: ['model', 'errors'],
  iam: ['model', 'errors'],
  observability: ['model', 'errors', 'config'],
  store: ['model', 'errors', 'config'],
  manager: ['store', 'iam', 'model', 'errors'],
  snapshot: ['store', 'model', 'errors'],
  api: ['manager', 'snapshot', 'iam', 'config', 'model', 'errors', 'observability'],
  dataplane: ['iam', 'config', 'model', 'errors', 'observability'],
  functions: ['model', 'errors', 'config'],
  dns: ['model', 'errors'],
  netns: ['model', 'errors', 'config'],
  cli: ['model', 'errors', 'config'],
  k8s: ['model', 'errors', 'config'],
  bin: Object.keys({
    model: 1,
    errors: 1,
    config: 1,
    iam: 1,
    observability: 1,
    store: 1,
    manager: 1,
    snapshot: 1,
    api: 1,
    dataplane: 1,
    functions: 1,
    dns: 1,
    netns: 1,
    cli: 1,
    k8s: 1,
  }),
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.trellis/**', 'bench/out/**', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/elements': Object.keys(ROOMS).map((room) => ({
        type: room,
        pattern: `src/${room}`,
      })),
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/dependencies': [
        2,
        {
          default: 'disallow',
          policies: Object.entries(ROOMS).map(([room, allowed]) => ({
            from: { element: { type: room } },
            allow: { to: { element: { types: { anyOf: [room, ...allowed] } } } },
          })),
        },
      ],
    },
  },
  {
    // model/ is shared with the console: no node: modules there.
    files: ['src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*'],
              message: 'model/ must not import node: modules (the console uses it).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
