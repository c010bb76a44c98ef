#!/usr/bin/env node
// Entry point of the `trellis` command: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

// Trellis supports Node.js 20; the AWS SDK's notice about its own future Node.js 22 requirement is
// for SDK upgrades, not for Trellis users, so it is silenced unless the user set the flag.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('../src/bin/trellis.ts');
