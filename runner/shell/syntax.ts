/**
 * How each command this project reasons about spells its options: which take a value (so the
 * word after them is not an operand), the long names GNU tools let you abbreviate, and the
 * parser convention. Data only; options.ts reads it. A command not listed parses GNU-style
 * with no value options, which can only make an operand look like a value, never hide an option.
 */
import type { OptionSyntax } from './options.ts';

/** A list of option names written as one string: `words('-n --namespace')`. */
const words = (text: string): string[] => text.trim().split(/\s+/);

const KUBECTL_GLOBAL = words(`
  -n --namespace --context --kubeconfig --cluster --user -s --server --token --as --as-group --as-uid
  --certificate-authority --client-certificate --client-key --request-timeout --tls-server-name --cache-dir
  -v --v --vmodule --log-file --log-dir --log-file-max-size --password --username --profile --profile-output --kuberc`);

const KUBECTL = [
  ...KUBECTL_GLOBAL,
  ...words(`
    -o --output -l --selector -f --filename -c --container --field-selector --replicas --current-replicas
    --resource-version --timeout --grace-period -p --patch --patch-file --type --for --template --sort-by --chunk-size
    --cascade --pod-selector -k --kustomize --field-manager -L --label-columns --since --since-time --tail
    --limit-bytes --pod-running-timeout --image --port --target-port --name --overrides --env --labels --restart
    --serviceaccount --to-revision --revision --min --max --cpu-percent --raw --subresource --max-log-requests
    --skip-wait-for-delete-timeout --protocol --address --local-port --prune-allowlist`),
];

const HELM = words(`
  --kube-context -n --namespace --kubeconfig --kube-apiserver --kube-as-user --kube-as-group --kube-ca-file
  --kube-token --kube-tls-server-name --registry-config --repository-cache --repository-config --burst-limit --qps
  --content-cache -f --values --set --set-string --set-file --set-json --set-literal --version --timeout -o --output
  --revision --max --description --post-renderer --post-renderer-args --repo --username --password --ca-file
  --cert-file --key-file --cascade --history-max --label -l --selector --deletion-propagation`);

const SYSTEMCTL = words(`
  -t --type -p --property -P -s --signal -H --host -M --machine --root --image --state -n --lines -o --output
  --job-mode --kill-whom --kill-value --what --timestamp --boot-loader-entry --boot-loader-menu --reboot-argument
  --message --drop-in --when --preset-mode --check-inhibitors --image-policy --legend --marked`);

const VELERO = words(`
  -n --namespace --kubeconfig --kubecontext --features --colorized -o --output -l --selector --from-backup
  --from-schedule --include-namespaces --exclude-namespaces --include-resources --exclude-resources
  --namespace-mappings --restore-volumes --ttl --storage-location --volume-snapshot-locations --schedule --labels`);

const K3S = words(`
  --data-dir -d --dir --etcd-snapshot-dir --name --token -t --server -s --config -c --s3-bucket --s3-endpoint
  --s3-region --s3-folder --s3-access-key --s3-secret-key --s3-endpoint-ca --s3-timeout --s3-config-secret --s3-proxy
  --node-name --snapshot-retention --etcd-snapshot-retention --new-token --service -o --output
  --cluster-reset-restore-path --kubeconfig --token-file --agent-token --bind-address --ttl --description --groups
  --usages --ca-cert --ca-key --path --key --certificate`);

const MYSQL = { values: words('-e --execute -u --user -h --host -P --port -D --database -S --socket') };
const SHELL: OptionSyntax = { values: words('-o +o -O +O --rcfile --init-file') };

export const COMMAND_SYNTAX: Record<string, OptionSyntax> = {
  kubectl: { values: KUBECTL, optionalValues: ['--dry-run'], style: 'pflag' },
  helm: { values: HELM, optionalValues: ['--dry-run'], style: 'pflag' },
  velero: { values: VELERO, style: 'pflag' },
  k3s: { values: K3S, style: 'go' },
  systemctl: { values: SYSTEMCTL },
  rm: {
    longs: words('--force --interactive --one-file-system --no-preserve-root --preserve-root --recursive --dir'),
  },
  shred: { values: words('-n --iterations --random-source -s --size') },
  truncate: { values: words('-r --reference -s --size') },
  wipefs: {
    values: words('-o --offset -t --types -b --backup --lock -O --output'),
    longs: words('--all --offset --force --no-act --noheadings --parsable --quiet --types --backup'),
  },
  pg_restore: {
    values: words(`
      -d --dbname -f --file -F --format -I --index -j --jobs -L --use-list -n --schema -N --exclude-schema -P --function
      -S --superuser -t --table -T --trigger -h --host -p --port -U --username --role --section --filter`),
    longs: words('--clean --create --data-only --dbname --if-exists --single-transaction --schema-only'),
  },
  psql: {
    values: words(`
      -c --command -d --dbname -f --file -v --set --variable -h --host -p --port -U --username -o --output -L --log-file
      -P --pset -F --field-separator -R --record-separator -T --table-attr`),
  },
  mysql: MYSQL,
  mariadb: MYSQL,
  sqlite3: { values: words('-cmd -separator -newline -nullvalue') },
  find: { values: [] },
  mount: { values: words('-o --options -t --types -L --label -U --uuid -O --test-opts -N --namespace') },
  sed: { values: words('-e --expression -f --file -l --line-length'), optionalValues: ['-i', '--in-place'] },
  perl: { values: words('-e -E -M -m -I'), optionalValues: ['-i'] },
  curl: {
    values: words(`
      -o --output -X --request -d --data --data-raw --data-binary --data-urlencode -H --header -u --user -w --write-out
      -T --upload-file -F --form -A --user-agent --cacert --cert --key -m --max-time --connect-timeout -e --referer
      -b --cookie -c --cookie-jar --resolve -x --proxy --retry --retry-delay --retry-max-time -r --range`),
  },
  wget: {
    values: words('-O --output-document -o --output-file -P --directory-prefix -t --tries -T --timeout --header'),
  },
  ip: { values: words('-n -netns -f -family -b -batch -rc -rcvbuf') },

  // Wrappers: options, then (after a fixed number of operands) the command they run.
  sudo: {
    values: words(`
      -u --user -g --group -p --prompt -C --close-from -D --chdir -r --role -t --type -T --command-timeout
      -U --other-user -h --host -R --chroot`),
    optionalValues: ['--preserve-env'],
    operandsBeforeRest: 0,
  },
  doas: { values: ['-u', '-C'], operandsBeforeRest: 0 },
  env: {
    values: words('-u --unset -C --chdir -S --split-string --block-signal --default-signal --ignore-signal'),
    operandsBeforeRest: 0,
  },
  nice: { values: ['-n', '--adjustment'], operandsBeforeRest: 0 },
  ionice: { values: words('-c --class -n --classdata'), operandsBeforeRest: 0 },
  timeout: { values: words('-s --signal -k --kill-after'), operandsBeforeRest: 1 },
  stdbuf: { values: words('-i --input -o --output -e --error'), operandsBeforeRest: 0 },
  nohup: { operandsBeforeRest: 0 },
  setsid: { operandsBeforeRest: 0 },
  exec: { values: ['-a'], operandsBeforeRest: 0 },
  command: { operandsBeforeRest: 0 },
  builtin: { operandsBeforeRest: 0 },
  time: { values: words('-f --format -o --output'), operandsBeforeRest: 0 },
  chroot: { values: ['--userspec', '--groups'], operandsBeforeRest: 1 },
  flock: { values: words('-w --timeout -E --conflict-exit-code -c --command'), operandsBeforeRest: 1 },
  chrt: { operandsBeforeRest: 1 },
  taskset: { operandsBeforeRest: 1 },
  unbuffer: { operandsBeforeRest: 0 },
  xargs: {
    values: words(`
      -a --arg-file -d --delimiter -E -I -L --max-lines -n --max-args -P --max-procs -s --max-chars
      --process-slot-var`),
    optionalValues: words('-e --eof -i --replace -l'),
    operandsBeforeRest: 0,
  },
  ssh: {
    values: words('-B -b -c -D -E -e -F -I -i -J -L -l -m -O -o -P -p -Q -R -S -W -w'),
    operandsBeforeRest: 1,
  },
  watch: {
    values: words('-n --interval -q --equexit'),
    optionalValues: ['-d', '--differences'],
    operandsBeforeRest: 0,
  },
  bash: SHELL,
  sh: SHELL,
  dash: SHELL,
  zsh: SHELL,
  ksh: SHELL,
};

export function syntaxOf(name: string): OptionSyntax {
  return Object.hasOwn(COMMAND_SYNTAX, name) ? COMMAND_SYNTAX[name]! : {};
}
