// Seeds a demo workspace through the public API (idempotent): a user demo@twenty-edge.dev
// with password "twenty-edge-demo", a workspace "Demo" and a few companies, people,
// opportunities and notes. Used by scripts/dev.sh once the server answers.
const base = process.argv[2] ?? "http://127.0.0.1:8787";
const email = "demo@twenty-edge.dev";
const password = "twenty-edge-demo";

async function gql(path, query, variables = {}, token) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${path}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function waitForServer() {
  for (let i = 0; i < 240; i++) {
    try {
      const r = await fetch(base + "/ping");
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`server at ${base} did not answer`);
}

await waitForServer();
const { checkUserExists } = await gql("/metadata", "query($e: String!) { checkUserExists(email: $e) { exists } }", { e: email });
if (checkUserExists.exists) {
  console.log(`demo workspace ready: sign in as ${email} / ${password}`);
  process.exit(0);
}
const { signUp } = await gql(
  "/metadata",
  "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
  { e: email, p: password },
);
const agnostic = signUp.tokens.accessOrWorkspaceAgnosticToken.token;
const { signUpInNewWorkspace } = await gql(
  "/metadata",
  'mutation { signUpInNewWorkspace(input: {displayName: "Demo"}) { loginToken { token } } }',
  {},
  agnostic,
);
const { getAuthTokensFromLoginToken } = await gql(
  "/metadata",
  "mutation($t: String!) { getAuthTokensFromLoginToken(loginToken: $t, origin: \"http://localhost:3001\") { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
  { t: signUpInNewWorkspace.loginToken.token },
);
const token = getAuthTokensFromLoginToken.tokens.accessOrWorkspaceAgnosticToken.token;
const { createCompanies } = await gql(
  "/graphql",
  "mutation($d: [CompanyCreateInput!]!) { createCompanies(data: $d) { id name } }",
  {
    d: [
      { name: "Airbnb", domainName: { primaryLinkUrl: "https://airbnb.com" }, address: { addressCity: "San Francisco" } },
      { name: "Qonto", domainName: { primaryLinkUrl: "https://qonto.com" }, address: { addressCity: "Paris" } },
      { name: "Cloudflare", domainName: { primaryLinkUrl: "https://cloudflare.com" }, address: { addressCity: "San Francisco" } },
    ],
  },
  token,
);
const people = [
  ["Brian", "Chesky", "CEO", 0],
  ["Alexandre", "Prot", "CEO", 1],
  ["Matthew", "Prince", "CEO", 2],
  ["Michelle", "Zatlyn", "President", 2],
].map(([firstName, lastName, jobTitle, c]) => ({
  name: { firstName, lastName },
  jobTitle,
  emails: { primaryEmail: `${firstName.toLowerCase()}@${createCompanies[c].name.toLowerCase()}.example` },
  companyId: createCompanies[c].id,
}));
const { createPeople } = await gql("/graphql", "mutation($d: [PersonCreateInput!]!) { createPeople(data: $d) { id } }", { d: people }, token);
await gql(
  "/graphql",
  "mutation($d: [OpportunityCreateInput!]!) { createOpportunities(data: $d) { id } }",
  {
    d: [
      { name: "Edge rollout", stage: "PROPOSAL", amount: { amountMicros: 120000000000, currencyCode: "USD" }, companyId: createCompanies[2].id, pointOfContactId: createPeople[2].id },
      { name: "Banking API", stage: "MEETING", amount: { amountMicros: 45000000000, currencyCode: "EUR" }, companyId: createCompanies[1].id, pointOfContactId: createPeople[1].id },
    ],
  },
  token,
);
await gql("/graphql", 'mutation { createNote(data: {title: "Welcome", bodyV2: {markdown: "This workspace runs on twenty-edge."}}) { id } }', {}, token);
console.log(`demo workspace seeded: sign in as ${email} / ${password}`);
