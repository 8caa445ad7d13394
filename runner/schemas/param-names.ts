// The names a param or `--set` may take, without zod: the planner checks them on every `show` and `run`.

/** Param names are environment variable names: they reach steps as env vars. */
export const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;
/** Any name bash accepts as a variable (what `--set` must name before it is even looked up). */
export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names no param and no `--set` may take: bash, the dynamic loader or the runner
 * itself give them a meaning, so a value for them would change how every step runs
 * (or what it runs) instead of reaching it as data. The loader names are glibc's own
 * list of variables it drops for setuid programs.
 */
export const RESERVED_NAMES: ReadonlyArray<{ name: string; prefix?: true; why: string }> = [
  { name: 'PATH', why: 'bash looks every command up in it' },
  { name: 'HOME', why: 'bash and most tools read their configuration from it' },
  { name: 'SHELL', why: 'programs start their subshells with it' },
  { name: 'IFS', why: 'it changes how bash splits words' },
  { name: 'CDPATH', why: 'it changes where `cd` goes' },
  { name: 'GLOBIGNORE', why: 'it changes what globs match' },
  { name: 'EXECIGNORE', why: 'it hides commands from bash' },
  { name: 'BASH_ENV', why: 'bash runs the file it names before the step' },
  { name: 'ENV', why: 'sh runs the file it names before a script' },
  { name: 'SHELLOPTS', why: 'it turns shell options on before the step' },
  { name: 'BASHOPTS', why: 'it turns shell options on before the step' },
  { name: 'POSIXLY_CORRECT', why: 'it changes how bash and many tools behave' },
  { name: 'PS4', why: 'bash expands it (running any command substitution in it) when tracing' },
  { name: 'PROMPT_COMMAND', why: 'bash runs it as a command' },
  { name: 'PWD', why: 'bash and programs take it as the current folder' },
  { name: 'OLDPWD', why: 'bash owns it' },
  { name: 'BASH', why: 'bash owns it' },
  { name: 'BASH_', prefix: true, why: 'bash owns these (BASH_FUNC_* even defines functions)' },
  { name: 'LD_', prefix: true, why: 'the dynamic loader reads these (LD_PRELOAD loads code into every program)' },
  ...['GCONV_PATH', 'GETCONF_DIR', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'MALLOC_TRACE', 'NIS_PATH', 'NLSPATH']
    .concat(['RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR'])
    .map((name) => ({ name, why: "the C library reads it (it is on glibc's list of unsafe variables)" })),
  { name: 'KUBECONFIG', why: 'the runner pins the kube context it checked through it' },
  { name: 'NODE', why: 'the runner sets it in each <ForEach> iteration' },
  { name: 'NODE_ADDRESS', why: 'the runner sets it in each <ForEach> iteration' },
  { name: 'NODE_OPTIONS', why: 'every Node.js program (the runner too) loads the options it names' },
  { name: 'NODE_PATH', why: 'Node.js programs load modules from it' },
  { name: 'RUNBOOK_', prefix: true, why: 'the runner reads these settings' },
  { name: 'SSH_', prefix: true, why: 'ssh and its agent use these to connect to the nodes' },
];

/** Why `name` cannot be a param, or undefined when it can. Case matters, as it does for bash. */
export function reservedName(name: string): string | undefined {
  const hit = RESERVED_NAMES.find((r) => (r.prefix ? name.startsWith(r.name) : name === r.name));
  return hit && `${name} is reserved: ${hit.why}. Choose another name`;
}
