// Entry point of the local AWS simulator: flags → options → wiring. Serves SQS and Lambda on
// http://127.0.0.1:PORT until SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import {
  bundledScenario,
  createSimulation,
  type EsmModel,
  esmModels,
  loadScenario,
  type Scenario,
  startServer,
} from '../awssim/index.ts';

const usage = `usage: npm run awssim -- --port PORT [--scenario FILE|NAME] [--seed N] [--clock real|virtual] [--esm-model ${esmModels.join('|')}]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      clock: { type: 'string', default: 'real' },
      'esm-model': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port: "${values.port}" is not a port\n${usage}`);
  if (values.clock !== 'real' && values.clock !== 'virtual')
    throw new Error(`--clock: must be real or virtual\n${usage}`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new Error(`--seed: "${values.seed}" is not an integer\n${usage}`);
  const esmModel = values['esm-model'];
  if (esmModel !== undefined && !(esmModels as readonly string[]).includes(esmModel))
    throw new Error(`--esm-model: must be one of ${esmModels.join(', ')}\n${usage}`);
  let scenario: Scenario | undefined;
  if (values.scenario !== undefined) {
    const file = /[/.]/.test(values.scenario) ? values.scenario : bundledScenario(values.scenario);
    scenario = loadScenario(file);
  }
  const sim = createSimulation({
    clock: values.clock,
    ...(scenario ? { scenario } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(esmModel !== undefined ? { esmModel: esmModel as EsmModel } : {}),
  });
  const server = await startServer(sim, { port });
  // Handlers first: a supervisor may send SIGTERM as soon as it reads the ready line.
  const stop = (): void => {
    sim.stop();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(
    `awssim listening on ${server.url} (scenario ${sim.scenarioName}, seed ${sim.seed}, clock ${sim.clock}, esm model ${sim.esmModel})`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
