/** The inventory a verb reads unless told otherwise. Its own module: `--help` shows it without loading the inventory's parser and schema. */
export const DEFAULT_INVENTORY = 'src/content/lab/inventory.yaml';
