/**
 * The processes a scenario can crash: the three services, the simulated payment provider they pay through, and
 * the infrastructure they stand on.
 */
export const SERVICES = ['account-service', 'ticket-service', 'payment-service', 'payment-provider'] as const;
export const INFRA = ['kafka', 'postgres', 'redis'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type InfraName = (typeof INFRA)[number];
export type TargetName = ServiceName | InfraName;
