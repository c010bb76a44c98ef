/** Reads the pagination members of a List* query string. */
export function queryPage(query: URLSearchParams): { maxResults?: string; nextToken?: string } {
  const out: { maxResults?: string; nextToken?: string } = {};
  const maxResults = query.get('maxResults');
  const nextToken = query.get('nextToken');
  if (maxResults !== null) out.maxResults = maxResults;
  if (nextToken !== null) out.nextToken = nextToken;
  return out;
}
