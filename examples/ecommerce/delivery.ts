/**
 * Delivery: in the announcement an ECS service behind an Application Load Balancer. Each task is
 * its own HTTP server; `TASKS` lists them as `version:task[:port],…` (default `v1:a`, port 0 = any). The demo runs two
 * v1 tasks and one v2 task (one process, to start fast) behind `alb.ts`, and the Lattice rule
 * sends a weighted share to each version (the canary). One ready line per task.
 */
import { randomUUID } from 'node:crypto';
import { json, readBody, seenBy, serve } from './sample-service.js';

for (const spec of (process.env.TASKS ?? 'v1:a').split(',')) {
  const [version = 'v1', task = 'a', port = '0'] = spec.split(':');
  startTask(version, task, Number(port));
}

function startTask(version: string, task: string, port: number): void {
  serve(`delivery-${version}-${task}`, port, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://delivery');
    if (!url.pathname.startsWith('/delivery')) return false;
    const body = await readBody(req);
    const order = body ? (JSON.parse(body) as { orderId?: string }) : {};
    json(res, req.method === 'POST' ? 201 : 200, {
      service: 'delivery',
      version,
      task,
      ...(req.method === 'POST'
        ? { deliveryId: `dlv-${randomUUID().slice(0, 8)}`, orderId: order.orderId, eta: '2 days' }
        : { path: url.pathname }),
      seen: seenBy(req),
    });
    return true;
  });
}
