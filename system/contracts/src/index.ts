export * from './asyncapi.ts';
export * from './envelope.ts';
export * from './messages.ts';
export * from './provider-faults.ts';
export * from './saga.ts';
export * from './topics.ts';
