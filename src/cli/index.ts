import type { Command } from 'commander';

/** Adds the API client commands (`service-network`, `service`, …) to the `trellis` program. */
export function registerCliCommands(_program: Command): void {
  // The client commands are added as they land.
}
