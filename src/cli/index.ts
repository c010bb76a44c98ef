import type { Command } from 'commander';
import type { CliCommand, CliRuntime } from './cli-command.js';
import { associationCommands } from './association-commands.js';
import { certificateCommands } from './certificate-commands.js';
import { registerAuthCommands } from './auth-commands.js';
import { authPolicyCommands } from './auth-policy-commands.js';
import { functionCommands } from './function-commands.js';
import { registerIamCommands } from './iam-commands.js';
import { instanceCommands, loadBalancerCommands, vpcCommands } from './inventory-commands.js';
import { listenerCommands } from './listener-commands.js';
import { logsCommands } from './logs-commands.js';
import { ramCommands } from './ram-commands.js';
import { ruleCommands } from './rule-commands.js';
import { serviceCommands } from './service-commands.js';
import { serviceNetworkCommands } from './service-network-commands.js';
import { targetCommands } from './target-commands.js';
import { targetGroupCommands } from './target-group-commands.js';
import { topCommands } from './top-commands.js';
import { usageCommands } from './usage-commands.js';

/**
 * Adds the API client commands (`service-network`, `service`, …) to the `trellis` program.
 * `runtime` replaces stdout/stderr and the environment (tests); default: the process's.
 */
export function registerCliCommands(program: Command, runtime?: CliRuntime): void {
  const add = (group: CliCommand): void => {
    if (runtime) group.runtime = runtime;
    program.addCommand(group);
  };
  add(serviceNetworkCommands());
  add(serviceCommands());
  add(listenerCommands());
  add(ruleCommands());
  add(targetGroupCommands());
  add(targetCommands());
  add(associationCommands());
  add(authPolicyCommands());
  add(vpcCommands());
  add(instanceCommands());
  add(loadBalancerCommands());
  add(usageCommands());
  add(topCommands());
  add(logsCommands());
  add(functionCommands());
  add(certificateCommands());
  add(ramCommands());
  // Other command groups (e.g. `iam`) are added below.
  registerIamCommands(program);
  registerAuthCommands(program, runtime);
}
