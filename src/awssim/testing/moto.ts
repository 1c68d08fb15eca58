// moto (`python3 -m moto.server`, preinstalled on these machines) as an independent AWS emulator
// for cross-checks: started on a free loopback port, Lambda without Docker.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Why moto cannot run here, or false when it can (for node:test's `skip`). */
export const motoMissing = ((): string | false => {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'moto is not installed (python3 -m moto.server unavailable): skipping the moto cross-check';
  }
})();

export interface Moto {
  url: string;
  stop(): void;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });

/** Starts moto and waits until it answers; Lambda runs without Docker. */
export async function startMoto(env: NodeJS.ProcessEnv = {}): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('moto did not start within 20 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  return { url, stop: () => child.kill('SIGTERM') };
}
