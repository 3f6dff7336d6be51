// The one-way arrows of the house (STYLE.md, docs/architecture.md), checked in `npm run lint`:
//   kit and contracts <- services <- stack <- loadgen and scripts; tests come in through front doors;
//   inside a service: domain <- store <- use cases <- http / messaging / workers.
const SERVICE = '(account-service|ticket-service|payment-service|payment-provider)';
const PACKAGE = '(system/[^/]+|stack|loadgen|web)';

module.exports = {
  forbidden: [
    {
      name: 'front-door',
      comment:
        'another package is entered by its name (@reservex/…, and its ./testing export), never by a path into its files',
      severity: 'error',
      from: { path: `^(system/[^/]+|stack|loadgen|web|scripts|test)/` },
      // A package name resolves as aliased (a workspace), npm or undetermined; a path into the files is only local.
      to: {
        path: `^${PACKAGE}/`,
        pathNot: '^$1/',
        dependencyTypesNot: ['aliased-workspace', 'aliased', 'undetermined', 'npm', 'npm-dev'],
      },
    },
    {
      name: 'system-below-everything',
      comment: 'the system knows nothing of what starts it, loads it or tests it',
      severity: 'error',
      from: { path: '^system/' },
      to: { path: '^(stack|loadgen|scripts|test|web)/' },
    },
    {
      name: 'shared-below-services',
      comment: 'kit and contracts serve every service and import none',
      severity: 'error',
      from: { path: '^system/(kit|contracts)/' },
      to: { path: `^system/${SERVICE}/` },
    },
    {
      name: 'no-service-imports-another',
      comment: 'services share only contracts and kit; they talk over Kafka and HTTP',
      severity: 'error',
      from: { path: `^system/${SERVICE}/src/` },
      to: { path: `^system/${SERVICE}/`, pathNot: '^system/$1/' },
    },
    {
      name: 'domain-is-pure',
      comment:
        'the rules import no framework, database or broker, nor the layers above them (typed errors from the kit are fine)',
      severity: 'error',
      from: { path: '^system/[^/]+/src/domain/' },
      to: {
        path: [
          '^system/[^/]+/src/(store|http|messaging|workers|use-cases)/',
          'node_modules/(express|pg|pg-pool|@platformatic/kafka|ioredis)/',
        ],
      },
    },
    {
      name: 'store-below-use-cases',
      severity: 'error',
      from: { path: '^system/[^/]+/src/store/' },
      to: { path: '^system/[^/]+/src/(use-cases|http|messaging|workers)/' },
    },
    {
      name: 'use-cases-below-adapters',
      comment: 'a use case is called by routes, consumers and workers, and calls none of them',
      severity: 'error',
      from: { path: '^system/[^/]+/src/use-cases/' },
      to: { path: '^system/[^/]+/src/(http|messaging|workers)/' },
    },
    {
      name: 'stack-below-harness',
      comment: 'the stack brings a system up and down; the load generator, the scripts and the tests use it',
      severity: 'error',
      from: { path: '^stack/' },
      to: { path: '^(loadgen|scripts|test)/' },
    },
    {
      name: 'loadgen-not-scripts',
      severity: 'error',
      from: { path: '^loadgen/' },
      to: { path: '^(scripts|test)/' },
    },
    {
      name: 'web-not-harness',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(stack|loadgen|scripts|test)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^reports/', '^\\.infra/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default'],
      extensions: ['.ts', '.tsx', '.js'],
    },
  },
};
