// The controller machinery's public surface, for src/controller and src/cmd.
export { type Clock, ManualClock, systemClock } from './clock.ts';
export {
  ABNORMAL_TRUE_TYPES,
  type Condition,
  type ConditionInput,
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
  setKstatusCondition,
} from './conditions.ts';
export { Controller, type ControllerOptions, type ReconcileFn, type ReconcileResult } from './controller.ts';
export { EventRecorder, type EventRecorderOptions, type EventType } from './events.ts';
export { patchFinalizers } from './finalizers.ts';
export { type Check, HealthServer, type HealthServerOptions } from './health.ts';
export { type EventHandlers, Informer, type InformerOptions, objectKey } from './informer.ts';
export {
  apiPath,
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  type KubeClient,
  type KubeList,
  type KubeObject,
  KubeTransport,
  kubeClient,
  type RequestOptions,
  type WatchEvent,
} from './kube.ts';
export {
  type AuthDecision,
  KubeAuthorizer,
  type KubeAuthorizerOptions,
  type ReviewedUser,
} from './kube-auth.ts';
export {
  type ElectionOutcome,
  type LeaderElectionOptions,
  LeaderElector,
  type LeaseSpec,
} from './leaderelection.ts';
export { type Logger, silentLogger } from './logger.ts';
export {
  Manager,
  type ManagerOptions,
  type ManagerOutcome,
  type Runnable,
  terminationSignal,
} from './manager.ts';
export { RuntimeMetrics } from './metrics.ts';
export {
  MetricsServer,
  type MetricsServerOptions,
  type RequestAuthorizer,
  type TlsSource,
} from './metrics-server.ts';
export {
  annotationsChanged,
  anyOf,
  deletionOrFinalizersChanged,
  generationChanged,
  labelsChanged,
  type UpdatePredicate,
  userChanged,
} from './predicates.ts';
export { type CertificateKeyPair, selfSignedCertificate } from './selfsigned.ts';
export { ownerOf, ShardSet, type ShardSetOptions } from './shards.ts';
export { mergePatch, objectPath, type ResourceRef, StatusPatcher } from './status.ts';
export { metaTime, microTime } from './time.ts';
export { WorkQueue, type WorkQueueOptions } from './workqueue.ts';
