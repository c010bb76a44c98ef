import { ValidationException } from '../errors/aws-errors.js';
import type { ListQuery, StoreReader, StoredResource } from '../store/store.js';

/** Default page size when `maxResults` is omitted (unverified in the spec; see README). */
export const DEFAULT_PAGE_SIZE = 100;

/** Parses `maxResults` (1–100) and `nextToken` (opaque, 1–2048 chars) per spec §1.1. */
export function parsePageParams(
  maxResults: string | number | undefined,
  nextToken: string | undefined,
): { limit: number; afterId?: string } {
  let limit = DEFAULT_PAGE_SIZE;
  if (maxResults !== undefined && maxResults !== '') {
    const n = Number(maxResults);
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw ValidationException.fromFields([
        { name: 'maxResults', message: 'must be an integer between 1 and 100' },
      ]);
    }
    limit = n;
  }
  if (nextToken === undefined || nextToken === '') return { limit };
  let afterId: string | undefined;
  if (nextToken.length <= 2048) {
    try {
      const decoded = Buffer.from(nextToken, 'base64url').toString('utf8');
      if (decoded.startsWith('t1:')) afterId = decoded.slice(3);
    } catch {
      afterId = undefined;
    }
  }
  if (!afterId) {
    throw ValidationException.fromFields([
      { name: 'nextToken', message: 'is not a token returned by a previous call' },
    ]);
  }
  return { limit, afterId };
}

export function encodeNextToken(lastId: string): string {
  return Buffer.from(`t1:${lastId}`, 'utf8').toString('base64url');
}

/** Lists one page of a kind and renders it; returns `{ items, nextToken? }` as the API shapes it. */
export async function listPage<T, R>(
  reader: StoreReader,
  query: Omit<ListQuery, 'afterId' | 'limit'>,
  page: { maxResults?: string | number; nextToken?: string },
  render: (r: StoredResource<T>) => R | Promise<R>,
): Promise<{ items: R[]; nextToken?: string }> {
  const { limit, afterId } = parsePageParams(page.maxResults, page.nextToken);
  const result = await reader.list<T>({ ...query, limit, ...(afterId ? { afterId } : {}) });
  const items: R[] = [];
  for (const r of result.items) items.push(await render(r));
  const out: { items: R[]; nextToken?: string } = { items };
  if (result.lastId) out.nextToken = encodeNextToken(result.lastId);
  return out;
}
