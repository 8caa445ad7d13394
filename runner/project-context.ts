import { loadInventory } from './inventory/load.ts';
import { type ProjectOptions, type ProjectPaths, projectPaths } from './project-paths.ts';

export { type ProjectOptions, usableFolder } from './project-paths.ts';

export interface ProjectContext extends ProjectPaths {
  loadInventory(): ReturnType<typeof loadInventory>;
}

/** Where a verb works: the project root, its inventory (loaded and validated) and its records folder. */
export function projectContext(opts: ProjectOptions): ProjectContext {
  const paths = projectPaths(opts);
  return { ...paths, loadInventory: () => loadInventory(paths.inventoryFile) };
}
