/**
 * Run-time enforcement of read-only `check` steps: kubectl, helm, k3s, crictl and ctr refuse the
 * verbs (and writing options) that shell/readonly.ts does not list as reads, with "runbook: check
 * step is read-only: kubectl apply refused" on stderr and exit 3; anything else runs the real tool
 * with argv, stdin and exit code untouched.
 *
 * Design: a shim directory first on PATH, not shell functions alone. A function is bypassed by
 * `env kubectl`, `xargs kubectl`, `command kubectl`, `sudo kubectl`, `find -exec`, `timeout`:
 * they all look the tool up on PATH, where the shim sits. The shim finds the real tool on the rest
 * of PATH, skipping every directory marked as a shim directory (so two preludes never loop).
 * Exported functions are added on top, for a step that resets PATH (`PATH=/usr/bin kubectl …`):
 * bash and bash children still go through the shim. What stays open, and is the lint rule's to
 * catch (check-writes matches any path): an absolute path (/usr/local/bin/kubectl), a copy of the
 * binary under another name, and commands run inside a pod through `kubectl exec`.
 *
 * `readOnlyPrelude()` is plain bash on one line (step line numbers stay right): it makes a private
 * directory (mktemp -d), writes the shims there, puts it first on PATH and removes it on exit. It
 * works the same in the local executor and in the script sent to a node over SSH. A step that sets
 * its own EXIT trap replaces the clean-up: the directory (a few kB under $TMPDIR) then stays.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { READ_ONLY_TOOLS, READ_ONLY_VERBS, readOnlySyntax, verbSpec, WRITING_OPTIONS } from '../shell/readonly.ts';

/** Present in every shim directory: a shim looking for the real tool skips such directories. */
export const SHIM_MARKER = '.runbook-readonly';
export const REFUSED_EXIT = 3;

/** The one shim script; it acts as the tool named by the link it is called through. */
export function shimScript(): string {
  return `#!/usr/bin/env bash
# runbook: read-only shim for check steps (generated from runner/shell/readonly.ts).
__tool=\${0##*/}
${scanFunction()}
${verdictFunction()}
__refused=
__rb_verdict "$__tool" "$@"
if [[ -n $__refused ]]; then
  printf 'runbook: check step is read-only: %s refused\\n' "$__refused" >&2
  exit ${REFUSED_EXIT}
fi
IFS=: read -r -a __dirs <<< "$PATH"
for __d in "\${__dirs[@]}"; do
  __d=\${__d:-.}
  [[ -e $__d/${SHIM_MARKER} ]] && continue
  if [[ -f $__d/$__tool && -x $__d/$__tool ]]; then exec "$__d/$__tool" "$@"; fi
done
printf 'runbook: %s: command not found\\n' "$__tool" >&2
exit 127
`;
}

/**
 * Operands (`__ops`, with their indexes in `__idx`) and option names (`__opts`) of a command line,
 * read as options.ts reads them (pflag, Go flag): values skipped, `--name=value` named `--name`.
 */
function scanFunction(): string {
  return `__rb_scan() {
  local values=$1 style=$2 i=0 j a name
  shift 2
  local -a args=("$@")
  __ops=() __idx=() __opts=()
  while (( i < \${#args[@]} )); do
    a=\${args[i]}
    if [[ $a == -- ]]; then
      for (( i = i + 1; i < \${#args[@]}; i++ )); do __ops+=("\${args[i]}"); __idx+=("$i"); done
      break
    elif [[ $a == - || $a != -* ]]; then
      __ops+=("$a"); __idx+=("$i")
    elif [[ $a == --* || ( $style == go && \${#a} -gt 2 ) ]]; then
      name=\${a#--}; name=--\${name#-}
      if [[ $name != *=* && $values == *" $name "* ]]; then i=$((i + 1)); fi
      if [[ ! ( $style == go && $name == *=false ) ]]; then __opts+=("\${name%%=*}"); fi
    else
      for (( j = 1; j < \${#a}; j++ )); do
        __opts+=("-\${a:j:1}")
        if [[ $values == *" -\${a:j:1} "* ]]; then
          if (( j + 1 == \${#a} )); then i=$((i + 1)); fi
          break
        fi
      done
    fi
    i=$((i + 1))
  done
}`;
}

/** ' a b ': a word list that `*" $w "*` can search. */
const spaced = (list: readonly string[] = []) => `' ${list.join(' ')} '`;

/** One `case` arm per read verb; the checks run in refusedVerb's order. */
function verdictFunction(): string {
  const branches = READ_ONLY_TOOLS.map((tool) => {
    const syntax = readOnlySyntax(tool);
    const cases = Object.entries(READ_ONLY_VERBS[tool]).map(([verb, rule]) => {
      const pattern = verb === '' ? "''" : verb;
      const spec = verbSpec(rule);
      const global = `__rb_options '${tool}' ${spaced(WRITING_OPTIONS[tool])}`;
      if (spec.tool) return `      ${pattern}) ${global} || __rb_verdict ${spec.tool} "\${@:__idx[0]+2}" ;;`;
      const checks = [
        global,
        ...(spec.writes ? [`__rb_options '${tool} ${verb}' ${spaced(spec.writes)}`] : []),
        ...(spec.needs ? [`__rb_needs '${tool} ${verb}' ${spaced(spec.needs)}`] : []),
        ...(spec.subs ? [`__rb_sub '${tool} ${verb}' ${spaced(spec.subs)}`] : []),
      ];
      return `      ${pattern}) ${checks.join(' || ')} ;;`;
    });
    return `    ${tool})
      __rb_scan ${spaced(syntax.values)} ${syntax.style ?? 'gnu'} "$@"
      verb=\${__ops[0]-}
      case $verb in
${cases.join('\n')}
      *) __refused="${tool} $verb" ;;
      esac ;;`;
  });
  // Each check returns 0 when it refused (so `||` stops at the first refusal).
  return `__rb_options() {
  local o
  for o in "\${__opts[@]}"; do
    if [[ $2 == *" $o "* ]]; then __refused="$1 $o"; return 0; fi
  done
  return 1
}
__rb_needs() {
  local o
  for o in "\${__opts[@]}"; do [[ $2 == *" $o "* ]] && return 1; done
  __refused=$1
}
__rb_sub() {
  local sub=\${__ops[1]-}
  if [[ $2 != *" $sub "* ]]; then __refused="$1\${sub:+ $sub}"; fi
}
__rb_verdict() {
  local tool=$1 verb
  shift
  case $tool in
${branches.join('\n')}
  esac
}`;
}

/** Writes the shims into `dir` (created if missing); put `pathPrefix` first on the step's PATH. */
export function createReadOnlyShims(dir: string): { pathPrefix: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const script = join(dir, 'runbook-readonly-shim');
  writeFileSync(script, shimScript(), { mode: 0o755 });
  chmodSync(script, 0o755);
  for (const tool of READ_ONLY_TOOLS) {
    rmSync(join(dir, tool), { force: true });
    symlinkSync('runbook-readonly-shim', join(dir, tool));
  }
  writeFileSync(join(dir, SHIM_MARKER), 'shims of runbook check steps: see runner/execute/readonly.ts\n');
  return { pathPrefix: dir };
}

/** `$'…'` quoting: the shim text travels on the prelude's one line. */
function ansiC(text: string): string {
  return `$'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;
}

/**
 * Bash for the start of a check step's script (locally and over SSH), one line ending in `; `:
 * prepend it to the step's text without a newline. Safe under `set -euo pipefail`.
 */
export function readOnlyPrelude(): string {
  const d = '"$RUNBOOK_READONLY_DIR"';
  const links = READ_ONLY_TOOLS.map((t) => `ln -s runbook-readonly-shim ${d}/${t}`).join(' && ');
  const functions = READ_ONLY_TOOLS.map((t) => `${t}() { "$RUNBOOK_READONLY_DIR/${t}" "$@"; }`).join('; ');
  const setup = [
    `RUNBOOK_READONLY_DIR="$(mktemp -d "\${TMPDIR:-/tmp}/runbook-readonly.XXXXXX")"`,
    `export RUNBOOK_READONLY_DIR`,
    `trap 'rm -rf -- "$RUNBOOK_READONLY_DIR"' EXIT`,
    `printf %s ${ansiC(shimScript())} > ${d}/runbook-readonly-shim`,
    `chmod 0755 ${d}/runbook-readonly-shim`,
    links,
    `: > ${d}/${SHIM_MARKER}`,
    `export PATH="$RUNBOOK_READONLY_DIR:$PATH"`,
  ].join(' && ');
  // Without the shims the step must not run at all: it would run unguarded.
  const fail = `{ echo 'runbook: cannot set up the read-only guard of this check step' >&2; exit ${REFUSED_EXIT}; }`;
  return `{ ${setup}; } || ${fail}; ${functions}; export -f ${READ_ONLY_TOOLS.join(' ')}; `;
}
