// No container engine runs on these machines, so the image is checked where it can be: the
// Dockerfile's entry point is a file `npm run build` produces, it starts and answers --help, and
// everything it loads comes from production dependencies (the only ones the image installs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const out = join(root, '.tmp', `image-test-${process.pid}`);
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

before(() => {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], {
    cwd: root,
  });
});
after(() => rmSync(out, { recursive: true, force: true }));

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
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /COPY --from=build \/workspace\/dist \.\/dist/);
  });

  it('names an entry point that the build produces, which starts and answers --help', () => {
    const entry = /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
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
      /\.test\.js$|^policy\/fixtures\.js$|^awssim\/testing\/|^envtest\/|^cmd\/(bench-scale|playground)\.js$/.test(
        f,
      ),
    );
    assert.deepEqual(testOnly, []);
    assert.ok(built.includes('cmd/manager.js') && built.includes('bench/workload.js'), built.join(', '));
  });
});
