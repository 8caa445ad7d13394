import { createRequire } from 'node:module';

type YamlLib = typeof import('yaml');

const require = createRequire(import.meta.url);
let lib: YamlLib | undefined;

/**
 * The position-aware `yaml` package, loaded on first use. It is ~70 modules
 * (~30 ms of start-up); data is read with js-yaml, and this is needed only to
 * point a message at a line or to read an apply step's manifest.
 */
export function yamlLib(): YamlLib {
  return (lib ??= require('yaml') as YamlLib);
}
