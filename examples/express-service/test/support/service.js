'use strict';
// The service under test on a free loopback port, and the HTTP helpers the route tests share.
const http = require('node:http');
const jwt = require('jsonwebtoken');
const sfcrm = require('sfcrm');
const { createApp } = require('../../src/app');

const JWT_KEY = 'platform-jwt-key-for-tests';
const STATE_SECRET = 'service-state-secret-32-bytes-or-more!!';
const FORWARD = 'https://app.example.com/settings/integrations';
const BASE = '/v1/integrations/salesforce';

/**
 * Starts the service on a free port; its redirect URI points at its own callback route. Every
 * message the service logs is kept in `logs`.
 */
async function startService(emu, { store = new sfcrm.MemoryStore(), configOverrides = {} } = {}) {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const client = new sfcrm.Client(
    {
      clientId: 'sfcrm-demo-client',
      clientSecret: 'sfcrm-demo-secret',
      redirectUri: `${origin}${BASE}/auth/callback`,
      loginUrl: emu.loginUrl,
      stateSecret: STATE_SECRET,
      forwardOrigins: ['https://app.example.com'],
      maxRetries: 1,
      initialBackoffMs: 10,
      ...configOverrides,
    },
    store,
  );
  const logs = [];
  server.on('request', createApp({ client, jwtKey: JWT_KEY, log: (m) => logs.push(m) }));
  return {
    origin,
    store,
    client,
    logs,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** An `Authorization` header with a platform JWT carrying these claims (as given, any type). */
function bearer(account_id, uid, key = JWT_KEY, opts = { algorithm: 'HS256' }) {
  return { authorization: `Bearer ${jwt.sign({ account_id, uid }, key, opts)}` };
}

/** One request without following redirects: status, Location and the (JSON if it parses) body. */
async function get(url, headers = {}, method = 'GET') {
  const res = await fetch(url, { method, headers, redirect: 'manual' });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, location: res.headers.get('location'), body };
}

/** login → authorize (the emulator consents) → the callback URL Salesforce redirects to. */
async function consentFor(svc, headers, forward = FORWARD) {
  const login = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(forward)}`, headers);
  if (login.status !== 302) throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body)}`);
  const res = await fetch(login.location, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}`);
  return res.headers.get('location');
}

module.exports = { JWT_KEY, STATE_SECRET, FORWARD, BASE, startService, bearer, get, consentFor };
