// helm and promtool built from source by hack/tools/build.sh (cached by version outside the
// repository, like the control plane): the chart, alert and dashboard tests run the real tools.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where helm and promtool are: $LCS_TOOLS_DIR, or build/cache them now. */
export async function toolBinaries(): Promise<string> {
  const fromEnv = process.env.LCS_TOOLS_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const build = spawn('bash', [join(repoRoot, 'hack/tools/build.sh')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  build.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
  if (code !== 0)
    throw new Error(`building helm and promtool failed (exit ${code}); run make tools to see why`);
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  if (!existsSync(join(dir, 'helm')) || !existsSync(join(dir, 'promtool')))
    throw new Error(`the tools build printed no usable directory: ${dir}`);
  return dir;
}

/** The outcome of a tool run, never thrown: tests assert on failures too. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the built tools (`helm`, `promtool`) with `args`. */
export async function runTool(
  tool: 'helm' | 'promtool',
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  const dir = await toolBinaries();
  try {
    const { stdout, stderr } = await run(join(dir, tool), args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
