// Baseline for scripts/bench-check: read and parse every page with unified +
// remark-mdx + remark-frontmatter and nothing else, in one process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkFrontmatter from 'remark-frontmatter';
import remarkMdx from 'remark-mdx';

const dir = process.argv[2]!;
const processor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']).use(remarkMdx);
let nodes = 0;
for (const f of globSync('**/*.mdx', { cwd: dir }))
  nodes += processor.parse(readFileSync(join(dir, f), 'utf8')).children.length;
process.stdout.write(`${nodes}\n`);
