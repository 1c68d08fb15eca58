// `npm run verify`: regenerate what is generated, typecheck, lint, and fail if anything in the
// tree changed or appeared (a generated file edited by hand, or one not regenerated).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const step = (what: string, file: string, args: string[]) => {
  console.log(`verify: ${what}`);
  execFileSync(file, args, { cwd: root, stdio: 'inherit' });
};

step('generate', process.execPath, [join(root, 'hack/generate.ts')]);
step('typecheck', bin('tsc'), ['-p', 'tsconfig.json']);
step('lint and format', bin('biome'), ['check', '--error-on-warnings', '.']);
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
  cwd: root,
}).toString();
if (dirty.trim() !== '') {
  console.error(`verify: the tree is dirty after regenerating; commit or regenerate these:\n${dirty}`);
  execFileSync('git', ['--no-pager', 'diff', '--stat'], { cwd: root, stdio: 'inherit' });
  process.exit(1);
}
console.log('verify: ok');
