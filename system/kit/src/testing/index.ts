export * from './http-client.ts';
export * from './otlp-collector.ts';
export * from './saga-publisher.ts';
export * from './tcp-gate.ts';
export * from './test-app.ts';
export * from './test-infra.ts';
export * from './test-tokens.ts';
export * from './wait-for.ts';
