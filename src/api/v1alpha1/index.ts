// The LambdaConcurrencyScaler API, v1alpha1: types, schemas, names and status vocabulary.
export * from './aws-names.ts';
export * from './conditions.ts';
export * from './groupversion.ts';
export {
  Actuator,
  INVOKES_PER_POLLER,
  MAXIMUM_CONCURRENCY,
  OnDelete,
  POLLERS,
} from './lifecycle-spec.ts';
export * from './schema.ts';
