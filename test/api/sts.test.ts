/**
 * STS through @aws-sdk/client-sts, and management authorisation through
 * @aws-sdk/client-vpc-lattice, against a real `trellis up` (issue auth §1).
 */
import { describe } from 'node:test';
import { stsCases } from './iam-cases.js';
import { startRealTarget } from './iam-real-target.js';

describe('STS and management authorisation (trellis up)', () => stsCases(startRealTarget));
