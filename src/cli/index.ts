import type { Command } from 'commander';
import { associationCommands } from './association-commands.js';
import { authPolicyCommands } from './auth-policy-commands.js';
import { registerIamCommands } from './iam-commands.js';
import { instanceCommands, loadBalancerCommands, vpcCommands } from './inventory-commands.js';
import { listenerCommands } from './listener-commands.js';
import { ruleCommands } from './rule-commands.js';
import { serviceCommands } from './service-commands.js';
import { serviceNetworkCommands } from './service-network-commands.js';
import { targetCommands } from './target-commands.js';
import { targetGroupCommands } from './target-group-commands.js';

/** Adds the API client commands (`service-network`, `service`, …) to the `trellis` program. */
export function registerCliCommands(program: Command): void {
  program.addCommand(serviceNetworkCommands());
  program.addCommand(serviceCommands());
  program.addCommand(listenerCommands());
  program.addCommand(ruleCommands());
  program.addCommand(targetGroupCommands());
  program.addCommand(targetCommands());
  program.addCommand(associationCommands());
  program.addCommand(authPolicyCommands());
  program.addCommand(vpcCommands());
  program.addCommand(instanceCommands());
  program.addCommand(loadBalancerCommands());
  // Other command groups (e.g. `iam`) are added below.
  registerIamCommands(program);
}
