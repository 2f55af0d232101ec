'use strict';
// An independent oracle for the seed's export body: the seed's own paginator arithmetic (with the
// D14 fixes the SDK documents) and records fetched straight from the org with the seed's SOQL.

/** The seed's paginator (seed-salesforce-integration.md), with D14: pages < 1 → 1, 0/0 → 0. */
function seedPaginator(items, page, perPage) {
  let p = (page && parseInt(page)) || 1;
  if (p < 1) p = 1; // D14
  const per = perPage || items;
  const offset = (p - 1) * per;
  const totalPages = per === 0 ? 0 : Math.ceil(items / per); // D14: NaN → 0
  return {
    page: p,
    per_page: per,
    total: items,
    total_pages: totalPages,
    next_page: p < totalPages ? p + 1 : null,
    prev_page: p > 1 ? p - 1 : null,
    offsetValue: offset < items ? offset : 0,
  };
}

/** The seed's SOQL field lists per export type. */
const SEED_QUERIES = {
  contacts: 'SELECT name, account.name, title, phone, email, contact.owner.alias FROM contact',
  deals: 'SELECT name, account.name, amount, CloseDate, StageName, opportunity.owner.alias FROM opportunity',
  notes: 'SELECT body, IsDeleted, IsPrivate, OwnerId, ParentId, Title, note.owner.alias FROM note',
};

/**
 * Every record of `type` in Id order, as Salesforce returns them for the seed's query, following
 * nextRecordsUrl (the oracle for any page, deep ones included).
 */
async function allSeedRecords(doc, type) {
  const base = doc.instance_url;
  const headers = { authorization: `Bearer ${doc.token.access_token}` };
  let url = `${base}/services/data/v48.0/query?q=${encodeURIComponent(`${SEED_QUERIES[type]} ORDER BY Id`)}`;
  const out = [];
  for (;;) {
    const res = await fetch(url, { headers });
    const body = await res.json();
    if (!res.ok) throw new Error(`oracle query failed: ${res.status} ${JSON.stringify(body)}`);
    out.push(...body.records);
    if (body.done) return out;
    url = `${base}${body.nextRecordsUrl}`;
  }
}

/** The seed's body for page/limit over `records` (all records of the type, Id order). */
function seedBody(records, page, limit) {
  const pagination = seedPaginator(records.length, page, limit);
  let data = [];
  if (pagination.page <= pagination.total_pages) {
    const start = (pagination.page - 1) * pagination.per_page;
    data = records.slice(start, start + pagination.per_page);
  }
  return { success: true, message: 'SUCCESS', data, pagination };
}

module.exports = { seedPaginator, seedBody, allSeedRecords, SEED_QUERIES };
