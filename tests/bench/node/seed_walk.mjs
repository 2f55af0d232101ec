// A faithful replica of the seed service's export path (seed-salesforce-integration.md, "Export
// Function" exportData, the paginator, and the "Export All Contacts (Paginated)" Quick Start loop),
// run in-process against the org emulator: for every page, a COUNT query, then the data query with
// `limit <per_page> offset <offsetValue>`, through axios, exactly as the seed builds them. The one
// change: the endpoints use the session's instance_url instead of a hard-coded na1 host (seed defect
// D4), otherwise no request would reach the org at all.
// Usage: node seed_walk.mjs SESSION_JSON LIMIT [TYPE [PAGE]]
// Prints one JSON line: pages fetched, records, and the error that ended the loop, if any. With
// PAGE, only that one page is requested (the seed's cost of a cold deep page).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import axios from 'axios';

const require = createRequire(import.meta.url);
const [sessionFile, limitArg, typeArg, pageArg] = process.argv.slice(2);
const session = JSON.parse(readFileSync(sessionFile, 'utf8'));
let accessToken = session.access_token;
const base = `${session.instance_url}/services/data/v48.0`;

// The seed's environment-configured endpoints (SALESFORCE_*_ENDPOINT: `query?q=select+…+from+…`).
const contactsURL = `${base}/query?q=select+name,+account.name,+title,+phone,+email,+contact.owner.alias+from+contact`;
const dealsURL = `${base}/query?q=select+name,+account.name,+amount,+CloseDate,+StageName,+opportunity.owner.alias+from+opportunity`;
const notesURL = `${base}/query?q=select+body,+IsDeleted,+IsPrivate,+OwnerId,+ParentId,+Title,+note.owner.alias+from+note`;
const countAllRecordEndpoint = `${base}/query?q=SELECT+COUNT()+FROM`;

// Controllers/pagination.js, verbatim.
function paginator(items, page, per_page) {
  var page = (page && parseInt(page)) || 1;
  var per_page = per_page || items;
  var offset = (page - 1) * per_page;
  var total_pages = Math.ceil(items / per_page);
  return {
    page: page,
    per_page: per_page,
    total: items,
    total_pages: total_pages,
    next_page: page < total_pages ? page + 1 : null,
    prev_page: page > 1 ? page - 1 : null,
    offsetValue: offset < items ? offset : 0,
  };
}

// exportData(req, res, next) without Express: (type, page, limit) in, the seed's JSON body out.
async function exportData(type, pageNo, limitValue) {
  let apiUrl = null, count_type;
  if (type === 'contacts') { apiUrl = contactsURL; count_type = 'Contact'; }
  else if (type === 'deals') { apiUrl = dealsURL; count_type = 'opportunity'; }
  else if (type === 'notes') { apiUrl = notesURL; count_type = 'Note'; }
  if (apiUrl === null) {
    return { success: false, errno: 400, message: 'Please provide valid type. Example contacts and deals' };
  }
  const headers = { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' };
  const paginationData = await axios.get(`${countAllRecordEndpoint}+${count_type}`, { headers });
  const getPaginationValue = paginator(paginationData.data.totalSize, pageNo, limitValue);
  let response;
  if (parseInt(getPaginationValue.page) <= getPaginationValue.total_pages) {
    response = await axios.get(
      `${apiUrl} limit ${getPaginationValue.per_page} offset ${getPaginationValue.offsetValue}`,
      { headers },
    );
  }
  return {
    success: true,
    message: 'SUCCESS',
    data: (response && response.data && response.data.records) || [],
    pagination: getPaginationValue,
  };
}

// The Quick Start loop ("Export All Contacts (Paginated)").
const limit = Number(limitArg || 200);
const type = typeArg || 'contacts';
const firstPage = pageArg ? Number(pageArg) : 1;
let page = firstPage;
let pages = 0;
let records = 0;
let failure = null;
const t0 = performance.now();
try {
  while (true) {
    const result = await exportData(type, page, limit);
    pages += 1;
    records += result.data.length;
    if (pageArg || !result.pagination.next_page) break;
    page = result.pagination.next_page;
  }
} catch (e) {
  const body = e.response && e.response.data;
  failure = {
    page,
    status: e.response ? e.response.status : null,
    errorCode: Array.isArray(body) && body[0] ? body[0].errorCode : null,
    message: Array.isArray(body) && body[0] ? body[0].message : String(e.message || e),
  };
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ first_page: firstPage, pages, records, seconds, failure, limit, axios: require('axios/package.json').version }));
