// Public library API of awssim, the local AWS (SQS + Lambda + STS) simulator. Nothing here imports the
// operator's code; the operator's tests, benchmark and what-if simulator import this.

export { Rng } from './engine/rng.ts';
export { RealTimeDriver, Scheduler } from './engine/scheduler.ts';
export {
  type Datapoint,
  type LambdaMetricName,
  lambdaMetricNames,
  type SqsMetricName,
  sqsMetricNames,
} from './model/cloudwatch.ts';
export { AwsApiError } from './model/errors.ts';
export type { LatencySummary, TimelinePoint } from './model/metrics.ts';
export {
  type Distribution,
  defaultBehaviour,
  defaultParams,
  type EsmModel,
  esmModels,
  type FunctionBehaviour,
  type ModelParams,
} from './model/params.ts';
export type { CallerIdentity, RoleSpec, Session } from './model/sts.ts';
export type { TrafficSpec } from './model/traffic.ts';
export { ACCOUNT_ID, type Fault, type QueueCounts, REGION } from './model/world.ts';
export {
  bundledScenario,
  loadScenario,
  parseScenario,
  roleSchema,
  type Scenario,
  ScenarioError,
  type ScenarioInput,
  scenarioSchema,
} from './scenario.ts';
export { type AwsSimServer, type ServerOptions, startServer } from './server.ts';
export {
  createSimulation,
  type EventSourceMappingView,
  type QueueFunctionTruth,
  Simulation,
  type SimulationOptions,
  type SimulationReport,
} from './simulation.ts';
