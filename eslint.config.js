// Lint: typescript-eslint's recommended rules, and each vendor SDK fenced into its one folder.
import tseslint from 'typescript-eslint';

const fenced = (names, folder) => ({
  group: names,
  message: `import this only from ${folder}`,
});

const engineFence = fenced(['bpmn-engine', 'bpmn-elements', 'bpmn-moddle', 'moddle-context-serializer', 'feelin', '@0dep/piso'], 'server/engine/');
const sqliteFence = fenced(['better-sqlite3'], 'server/store/sqlite/');

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'tmp/', 'modeler/dist/'] },
  ...tseslint.configs.recommended,
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            engineFence,
            sqliteFence,
            fenced(['twilio', 'twilio/*'], 'server/connectors/twilio.ts'),
            fenced(['nodemailer', 'nodemailer/*'], 'server/connectors/email.ts'),
          ],
        },
      ],
    },
  },
  { files: ['server/engine/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  ...[
    ['server/connectors/twilio.ts', ['nodemailer', 'nodemailer/*'], 'server/connectors/email.ts'],
    ['server/connectors/email.ts', ['twilio', 'twilio/*'], 'server/connectors/twilio.ts'],
  ].map(([file, others, home]) => ({
    files: [file],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            engineFence,
            sqliteFence,
            fenced(others, home),
          ],
        },
      ],
    },
  })),
  {
    files: ['server/store/sqlite/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [engineFence] },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
