/**
 * Page ids (runbook.id, or the file name) name run records and their folders, so an
 * id is one safe path segment: lowercase letters, digits and single dashes, which
 * rules out `/`, `..`, NUL, a leading dot and anything a file system would alter.
 */
export const PAGE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_PAGE_ID_LENGTH = 100;

/** Why `id` cannot be a page id, or undefined when it can. */
export function pageIdProblem(id: string): string | undefined {
  if (id.length > MAX_PAGE_ID_LENGTH) {
    return `it is ${id.length} characters long; at most ${MAX_PAGE_ID_LENGTH} are allowed`;
  }
  if (!PAGE_ID.test(id)) return 'ids are lowercase letters, digits and single dashes (they name run record folders)';
  return undefined;
}

/** A valid id close to `id`, to suggest as a new name. */
export function suggestPageId(id: string): string {
  const s = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_PAGE_ID_LENGTH)
    .replace(/^-+|-+$/g, '');
  return s || 'my-runbook';
}
