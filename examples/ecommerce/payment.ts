/**
 * Payment: in the announcement an EC2 instance; here a process the demo registers as an instance
 * (Trellis inventory API) and targets with an INSTANCE target group. Answers `POST /pay`.
 */
import { randomUUID } from 'node:crypto';
import { json, readBody, seenBy, serve } from './sample-service.js';

serve('payment', Number(process.env.PORT ?? 0), async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/pay') return false;
  const body = JSON.parse((await readBody(req)) || '{}') as { orderId?: string; amount?: number };
  json(res, 200, {
    service: 'payment',
    paymentId: `pay-${randomUUID().slice(0, 8)}`,
    orderId: body.orderId,
    amount: body.amount,
    status: 'captured',
    seen: seenBy(req),
  });
  return true;
});
