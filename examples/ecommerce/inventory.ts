/**
 * Inventory: in the announcement an ECS service in a dual-stack VPC, registered by its IPv6
 * addresses. Here it listens on the IPv6 loopback `::1` and answers `GET /stock?item=…`.
 * `POST /stock` (adjusting stock) exists too — the auth policy is what keeps Order away from it.
 */
import { json, readBody, seenBy, serve } from './sample-service.js';

const stock: Record<string, number> = { 'sku-42': 7, 'sku-7': 0 };

serve('inventory', Number(process.env.PORT ?? 0), async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://inventory');
  if (url.pathname !== '/stock') return false;
  if (req.method === 'GET') {
    const item = url.searchParams.get('item') ?? 'sku-42';
    json(res, 200, { service: 'inventory', item, available: stock[item] ?? 0, seen: seenBy(req) });
    return true;
  }
  if (req.method === 'POST') {
    const body = JSON.parse((await readBody(req)) || '{}') as { item?: string; delta?: number };
    const item = body.item ?? 'sku-42';
    stock[item] = (stock[item] ?? 0) + (body.delta ?? 0);
    json(res, 200, { service: 'inventory', item, available: stock[item], seen: seenBy(req) });
    return true;
  }
  return false;
});
