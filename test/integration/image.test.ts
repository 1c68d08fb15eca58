// No container engine runs on these machines, so the image is checked where it can be: the
// Dockerfile's entry point is a file `npm run build` produces, it starts and answers --help,
// everything it loads comes from production dependencies (the only ones the image installs), and
// the final stage, parsed, is shell-less and npm-less (distroless base, no shell in any instruction).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MANAGER_NODE_FLAGS } from '../../src/cmd/node-flags.ts';

const root = join(import.meta.dirname, '..', '..');
const out = join(root, '.tmp', `image-test-${process.pid}`);
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

before(() => {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], {
    cwd: root,
  });
});
after(() => rmSync(out, { recursive: true, force: true }));

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's stages: instructions with continuation lines joined and comments dropped. */
function stages(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const out: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      out.push({ from, name, instructions: [] });
    } else out.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return out;
}

/** An instruction's exec-form argv, or undefined for shell form (which needs /bin/sh). */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    return JSON.parse(args) as string[];
  } catch {
    return undefined;
  }
}

const SHELL_OR_NPM = /(^|\/)(sh|bash|dash|ash|busybox|npm|npx|corepack|yarn|pnpm)$/;
/** Base images without a shell or package manager: distroless (never :debug) or scratch. */
const SHELL_LESS_BASE =
  /^(scratch|gcr\.io\/distroless\/(static|base|base-nossl|cc|nodejs\d+)-debian\d+(:(nonroot|latest))?(@sha256:[0-9a-f]{64})?)$/;

/** Bare package names imported by `file` and every relative module it reaches. */
function reachablePackages(file: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(file)) return found;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const m of source.matchAll(
    /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2] ?? '';
    if (spec.startsWith('.')) reachablePackages(resolve(dirname(file), spec), seen, found);
    else if (!spec.startsWith('node:'))
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
  }
  return found;
}

describe('the container image', () => {
  it('pins the Node LTS the project runs on, builds with npm run build and runs as a non-root user', () => {
    assert.match(dockerfile, new RegExp(`ARG NODE_VERSION=${pkg.devDependencies.node?.replace('^', '')}`));
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(dockerfile, /RUN npm ci --omit=dev/);
    const final = stages(dockerfile).at(-1);
    const user = final?.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    assert.match(user ?? '', /^[1-9]\d*:[1-9]\d*$/, 'a numeric non-root uid:gid (runAsNonRoot can check it)');
    assert.match(dockerfile, /COPY --from=build \/workspace\/dist \.\/dist/);
  });

  it('has a final stage without a shell or npm: a shell-less base, exec-form instructions, only named files copied in', () => {
    const all = stages(dockerfile);
    const final = all.at(-1);
    assert.ok(final !== undefined && all.length > 1);
    assert.match(final.from, SHELL_LESS_BASE, `final base image ${final.from} may ship a shell`);
    for (const { op, args } of final.instructions) {
      assert.notEqual(op, 'SHELL', 'no SHELL in the final stage');
      if (op === 'RUN' || op === 'ENTRYPOINT' || op === 'CMD') {
        const argv = execForm(args);
        assert.ok(argv !== undefined, `${op} ${args}: shell form needs /bin/sh`);
        assert.doesNotMatch(argv[0] ?? '', SHELL_OR_NPM, `${op} ${args} runs a shell or npm`);
      }
    }
    // Whatever comes from a Node image comes file by file: its node binary (and libs), never npm.
    const named = new Map(all.map((s) => [s.name, s]));
    const copies = final.instructions
      .filter((i) => i.op === 'COPY' && i.args.startsWith('--from='))
      .map((i) => /^--from=(\S+)\s+(\S+)/.exec(i.args)?.slice(1) ?? []);
    assert.deepEqual(copies, [
      ['node-runtime', '/rootfs/'],
      ['deps', '/workspace/node_modules'],
      ['build', '/workspace/dist'],
    ]);
    const runtime =
      named
        .get('node-runtime')
        ?.instructions.map((i) => i.args)
        .join('\n') ?? '';
    assert.match(runtime, /cp \/usr\/local\/bin\/node \/rootfs\/usr\/local\/bin\/node/);
    assert.doesNotMatch(
      runtime,
      /npm|corepack|\/bin\/(ba|da)?sh\b|cp -r|cp -a/,
      'the runtime root has only node and its libs',
    );
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const production = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev !== true);
    for (const [path] of production)
      assert.doesNotMatch(path, /node_modules\/(npm|corepack|node)$/, `${path} would ship in node_modules`);
  });

  it('names an entry point that the build produces, which starts and answers --help', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint !== undefined, 'an exec-form ENTRYPOINT');
    const [node, ...argv] = JSON.parse(entrypoint) as string[];
    assert.equal(node, '/usr/local/bin/node');
    assert.deepEqual(argv.slice(0, -1), MANAGER_NODE_FLAGS, 'the V8 flags of src/cmd/node-flags.ts');
    assert.equal(pkg.scripts.manager, `node ${MANAGER_NODE_FLAGS.join(' ')} src/cmd/manager.ts`);
    const entry = argv.at(-1) ?? '';
    assert.equal(entry, 'dist/cmd/manager.js');
    const built = join(out, entry.replace(/^dist\//, ''));
    assert.ok(existsSync(built), `${built} was not built`);
    const help = execFileSync(process.execPath, [built, '--help'], { cwd: root }).toString();
    assert.match(help, /Usage: npm run manager -- \[flags\]/);
    assert.match(help, /--leader-elect/);
  });

  it('loads only production dependencies', () => {
    const used = reachablePackages(join(out, 'cmd/manager.js'));
    assert.ok(
      used.has('@kubernetes/client-node') && used.has('@aws-sdk/client-lambda'),
      [...used].join(', '),
    );
    for (const name of used) assert.ok(name in pkg.dependencies, `${name} is not a production dependency`);
  });
  it('ships no test-only helpers: tests, policy fixtures, the awssim test harness, envtest', () => {
    const built = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const testOnly = built.filter((f) =>
      /\.test\.js$|^policy\/fixtures\.js$|^awssim\/testing\/|^envtest\/|^cmd\/(bench-scale|bench-scale-replicas|playground)\.js$/.test(
        f,
      ),
    );
    assert.deepEqual(testOnly, []);
    assert.ok(built.includes('cmd/manager.js') && built.includes('bench/workload.js'), built.join(', '));
  });
});
