// Condition types, reasons and the original's `state` values: the closed vocabulary of the
// scaler's status, shared by the controller (which writes it) and the tests (which read it).

/** The original operator's coarse state, kept meaningful for existing users and dashboards. */
export const State = {
  Pending: 'PENDING',
  Adjusting: 'ADJUSTING',
  Adjusted: 'ADJUSTED',
  Error: 'ERROR',
} as const;
export type State = (typeof State)[keyof typeof State];

/**
 * Condition types. `Ready`, `Reconciling` and `Stalled` follow kstatus: `Ready` is always present,
 * `Reconciling` and `Stalled` only while true. The rest are domain conditions.
 */
export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  MetricsAvailable: 'MetricsAvailable',
  ConcurrencyApplied: 'ConcurrencyApplied',
  Constrained: 'Constrained',
  Paused: 'Paused',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Condition reasons: CamelCase, stable, safe to alert on. */
export const Reason = {
  Succeeded: 'Succeeded',
  Progressing: 'Progressing',
  Initializing: 'Initializing',
  QueueNotFound: 'QueueNotFound',
  FunctionNotFound: 'FunctionNotFound',
  NotAnEventSource: 'NotAnEventSource',
  AccessDenied: 'AccessDenied',
  InvalidSpec: 'InvalidSpec',
  CredentialsUnavailable: 'CredentialsUnavailable',
  MetricsUnavailable: 'MetricsUnavailable',
  Throttled: 'Throttled',
  AwsUnavailable: 'AwsUnavailable',
  ApplyFailed: 'ApplyFailed',
  Applied: 'Applied',
  DryRun: 'DryRun',
  AccountHeadroom: 'AccountHeadroom',
  Unconstrained: 'Unconstrained',
  PausedByAnnotation: 'PausedByAnnotation',
  Resumed: 'Resumed',
  /** Another scaler holds the function: this one never writes to it. */
  FunctionClaimed: 'FunctionClaimed',
  /** The administrator's tenancy settings do not let this namespace act this way. */
  NotAllowed: 'NotAllowed',
  /** The event source mapping's mode does not fit spec.actuator (provisioned or not). */
  EventSourceMode: 'EventSourceMode',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Event reasons, emitted on real scaling actions and on transitions, never once per poll. */
export const EventReason = {
  ScaledUp: 'ScaledUp',
  ScaledDown: 'ScaledDown',
  Drift: 'Drift',
  Constrained: 'Constrained',
  Stalled: 'Stalled',
  Recovered: 'Recovered',
  Restored: 'Restored',
  DryRun: 'DryRun',
  EventSourceCapped: 'EventSourceCapped',
  Paused: 'Paused',
  MetricsUnavailable: 'MetricsUnavailable',
  FunctionClaimed: 'FunctionClaimed',
  /** The scaler let go of a function it no longer names, after restoring it. */
  Released: 'Released',
  /** A namespace the administrator has not listed uses the operator's own AWS identity. */
  OperatorIdentity: 'OperatorIdentity',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
