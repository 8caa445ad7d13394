/** The line view of shell text moved to runner/shell/lines.ts; the sleep rule still reads it from here. */
export { shellLines, type ShellLine } from '../shell/lines.ts';
