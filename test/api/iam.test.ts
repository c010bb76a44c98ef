/** IAM through @aws-sdk/client-iam against a real `trellis up` (issue auth §1). */
import { describe } from 'node:test';
import { iamCases } from './iam-cases.js';
import { startRealTarget } from './iam-real-target.js';

describe('IAM (trellis up)', () => iamCases(startRealTarget));
