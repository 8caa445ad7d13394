import fc from 'fast-check';

/**
 * Property tests explore new inputs on every developer run, and replay one fixed seed
 * under CI, so a red CI is reproducible and a green one stays green for the same code.
 * `FC_SEED=<n>` replays any run (fast-check prints the seed of a failure).
 */
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261201 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });
