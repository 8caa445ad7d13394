// A separate runner process for lease.test.ts: takes the cluster lease as a run
// would and holds it (renewing) until its stdin says `release` or closes.
//   node test/cluster/lease-driver.ts <kubeconfig> <clusterName> <operator> <runId> [durationSeconds] [renewEveryMs]
// Prints one JSON line: {"taken":true,"takenOver":…} or {"refused":"<message>"} (exit 2);
// later lines report {"note":…}, {"lost":…} and {"released":true}.
import { connectCluster } from '../../runner/cluster/api.ts';
import { type HeldLease, takeClusterLease } from '../../runner/cluster/lease.ts';
import { describeError } from '../../runner/errors.ts';

const [kubeconfig, clusterName, operator, runId, duration, renewEvery] = process.argv.slice(2);
if (!kubeconfig || !clusterName || !operator || !runId) {
  console.error(
    'usage: lease-driver.ts <kubeconfig> <clusterName> <operator> <runId> [durationSeconds] [renewEveryMs]',
  );
  process.exit(2);
}
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const cluster = await connectCluster(kubeconfig);
let lease: HeldLease;
try {
  lease = await takeClusterLease(
    cluster,
    clusterName,
    { operator, host: '', runbook: 'k3s-upgrade', runId, startedAt: new Date().toISOString() },
    {
      ...(duration ? { durationSeconds: Number(duration) } : {}),
      ...(renewEvery ? { renewEveryMs: Number(renewEvery) } : {}),
      onNote: (note) => say({ note }),
    },
  );
} catch (err) {
  say({ refused: describeError(err) });
  process.exit(2);
}
say({ taken: true, takenOver: lease.takenOver ?? null });

// The renewal timer is unref'd: stdin is what keeps this process alive, as a run's steps would.
const held = lease;
const watch = setInterval(() => {
  const lost = held.lost();
  if (lost) {
    say({ lost });
    clearInterval(watch);
  }
}, 100);
watch.unref();
let input = '';
process.stdin.setEncoding('utf8');
let finishing = false;
const finish = async () => {
  if (finishing) return;
  finishing = true;
  clearInterval(watch);
  await held.release();
  say({ released: true });
  process.exit(0);
};
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  if (input.includes('release')) void finish();
});
process.stdin.on('end', () => void finish());
