import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports a layer may not make: dependencies point one way (README, "Project layout"). */
function forbid(files, layers, why) {
  const patterns = layers.map((layer) => ({ group: [`**/${layer}/**`, `**/${layer}.js`], message: why }));
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `const { dropped, ...kept } = value` is how a field is removed from a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  // The domain (rules, use cases, the store interfaces) knows nothing of how it is stored or served.
  {
    files: ['src/identity/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'fastify', '@electric-sql/pglite'].map((name) => ({ name, message: 'src/identity does no I/O: the store does.' })),
          patterns: ['db', 'http', 'maintenance', 'cli', 'main', 'workers', 'config'].map((layer) => ({
            group: [`**/${layer}/**`, `**/${layer}.js`],
            message:
              'src/identity is the domain: it owns the store interfaces (store.ts) that src/db implements; it imports no outer layer.',
          })),
        },
      ],
    },
  },
  forbid(
    ['src/db/**'],
    ['http', 'maintenance', 'cli', 'main', 'workers', 'config'],
    "src/db implements the domain's stores; it knows nothing of HTTP or the CLI.",
  ),
  forbid(['src/http/**'], ['maintenance', 'cli', 'main', 'workers'], 'src/http serves the use cases; composition happens in main.ts.'),
  // Change events: the use cases of delivery and pulls, on the domain's types and their own store interface (store.ts).
  {
    files: ['src/delivery/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'fastify', '@electric-sql/pglite', 'prom-client'].map((name) => ({
            name,
            message: 'src/delivery reaches storage through its store interface (store.ts) and reports through callbacks.',
          })),
          patterns: ['db', 'http', 'maintenance', 'cli', 'main', 'workers', 'config', 'services'].map((layer) => ({
            group: [`**/${layer}/**`, `**/${layer}.js`],
            message: 'src/delivery imports only src/identity (types) and its own modules; src/db implements its store.',
          })),
        },
      ],
    },
  },
  forbid(['src/maintenance/**'], ['http', 'cli', 'main', 'workers'], "src/maintenance is the operator's use cases; the CLI composes them."),
  forbid(
    ['web/src/**'],
    ['db', 'identity', 'maintenance', 'cli', 'main', 'workers', 'config'],
    "The explorer runs in a browser: it may share only the HTTP schemas' types.",
  ),
);
