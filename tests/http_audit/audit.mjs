// graphql-http's server audit (GraphQL over HTTP conformance) against a running server:
// `node audit.mjs http://127.0.0.1:8000/graphql`. Prints each warning and error, then one
// JSON line of counts: {"ok": N, "warn": N, "error": N}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.error(`${result.status} ${result.id} ${result.name}: ${result.reason}`);
  }
}
console.log(JSON.stringify(counts));
