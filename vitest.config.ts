import { defineConfig } from 'vitest/config';

/**
 * Five projects so each suite starts only the real services it needs:
 * - unit:    parser, planner, check rules, runner against real bash processes
 * - cluster: a real kube-apiserver with simulated nodes (test/cluster/global-setup.ts)
 * - ssh:     real sshd daemons on 127.0.0.1 high ports (test/ssh/global-setup.ts)
 * - site:    the built site in headless Chromium (test/site/global-setup.ts)
 * - twin:    the sandbox with the lab twin: every node a machine with sshd (root; test/twin/global-setup.ts)
 * Run one with `npx vitest run --project unit`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'runner/**/*.test.ts'],
          setupFiles: ['test/setup/fast-check.ts'],
          exclude: ['test/cluster/**', 'test/ssh/**', 'test/site/**', 'test/twin/**', 'node_modules/**'],
          testTimeout: 30_000,
          // GitHub's workflow parser imports its JSON schema without an import attribute; let Vite load it.
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
        },
      },
      {
        test: {
          name: 'ssh',
          include: ['test/ssh/**/*.test.ts'],
          globalSetup: ['test/ssh/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'twin',
          include: ['test/twin/**/*.test.ts'],
          globalSetup: ['test/twin/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 1_800_000,
        },
      },
      {
        test: {
          name: 'site',
          include: ['test/site/**/*.test.ts'],
          globalSetup: ['test/site/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
