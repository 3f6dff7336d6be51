export * from './http-client.ts';
export * from './test-infra.ts';
export * from './wait-for.ts';
