// The V8 flags the manager runs with, everywhere it runs: the image's ENTRYPOINT, `npm run
// manager`, and every test and benchmark that starts one (src/envtest/processes.ts);
// test/integration/image.test.ts fails when the Dockerfile or package.json differ from this list.
//
// Why: the manager's live heap is small (about 62 MiB of modules plus 12 KiB a scaler, from heap
// snapshots; bench/SCALE.md), but each poll makes short-lived garbage (SDK calls, JSON, requests)
// and V8, sized for a 4 GiB heap by default, let old space grow to twice the live data and more
// before collecting it: at 5,000 scalers RSS peaked near 700 MiB with 130 MiB live. A smaller young
// generation (4 MiB semi-spaces instead of up to 32) and collecting once old space is 25 % above
// what survived the last full collection keep RSS close to the live data (the CPU it costs is in bench/SCALE.md).
//
// The heap's hard limit is 60 % of the container's memory limit (node reads the cgroup's; without
// one, of the machine's): the remaining 40 % is for what is not heap (about 90 MiB: node, buffers,
// code). Without it, old space is whatever V8 derives from the container's limit by its own rule
// (a fraction of it, not stated by node's docs), which under the 320Mi the Deployment sets could
// come near the live heap of 1,000 scalers (64 MiB) and end in "heap out of memory" before the
// container is out of memory. Stated, it is 192 MiB there.
export const MANAGER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=25',
  '--max-old-space-size-percentage=60',
];
