// Where a V8 CPU profile (node --cpu-prof, or bench:scale --cpu-profile) spent its time: self time
// by package or source file, self time by function, and inclusive time by function, over the whole
// profile or only its last N seconds (a manager's steady state, start-up left out).
//
//   npm run profile-top -- FILE.cpuprofile [LAST_SECONDS] [ROWS]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, last = '0', rowsArg = '30'] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: npm run profile-top -- FILE.cpuprofile [LAST_SECONDS] [ROWS]\n');
  process.exit(2);
}
const rows = Number(rowsArg);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const from = Number(last) > 0 ? profile.endTime - Number(last) * 1e6 : Number.NEGATIVE_INFINITY;

const where = (url: string): string =>
  url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|hack|test)\//, '$1/');
const fnName = (n: ProfileNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const unit = (n: ProfileNode): string => {
  const url = n.callFrame.url;
  if (url === '') return n.callFrame.functionName; // (idle), (garbage collector), natives
  const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url)?.[1];
  return pkg ?? where(url);
};

const self = new Map<string, number>();
const units = new Map<string, number>();
const inclusive = new Map<string, number>();
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
let at = profile.startTime;
let total = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at < from) return;
  const node = byId.get(id);
  if (node === undefined) return;
  total++;
  bump(self, fnName(node));
  bump(units, unit(node));
  const seen = new Set<string>();
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const n = byId.get(x);
    if (n === undefined) break;
    const k = fnName(n);
    if (!seen.has(k)) bump(inclusive, k);
    seen.add(k);
  }
});
const top = (m: Map<string, number>): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([k, n]) => `${((100 * n) / Math.max(1, total)).toFixed(1).padStart(6)} %  ${k}`)
    .join('\n');
console.log(`${total} samples${Number(last) > 0 ? ` in the last ${last} s` : ''}`);
console.log(`\nself time by package or file\n${top(units)}`);
console.log(`\nself time by function\n${top(self)}`);
console.log(`\ninclusive time by function\n${top(inclusive)}`);
