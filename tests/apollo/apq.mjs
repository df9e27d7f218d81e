// Apollo Client's own persisted-query link against a running mailtab:
//   node apq.mjs <graphql url> <token>
// Prints one JSON object: the answers and every HTTP request the link made.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { createHash } from "node:crypto";

const [url, token] = process.argv.slice(2);
const requests = [];

async function recordingFetch(uri, options) {
  const response = await fetch(uri, options);
  const body = await response.clone().text();
  const address = new URL(String(uri));
  requests.push({
    method: options.method ?? "GET",
    hasQueryText:
      options.method === "POST"
        ? JSON.parse(options.body).query !== undefined
        : address.searchParams.has("query"),
    hasHash: (options.body ?? address.search).includes("sha256Hash"),
    status: response.status,
    body,
  });
  return response;
}

const persisted = createPersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: true,
});
const http = new HttpLink({
  uri: url,
  fetch: recordingFetch,
  headers: { authorization: `Bearer ${token}`, "accept-language": "en" },
});
const client = new ApolloClient({
  link: persisted.concat(http),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: "no-cache" } },
});

const PROVIDERS = gql`
  query Providers {
    mailProviders {
      code
      title
    }
  }
`;
const SEND = gql`
  mutation Send {
    sendTestEmail(input: { recipient: "not an address" }) {
      delivered
      errors {
        code
      }
    }
  }
`;

const first = await client.query({ query: PROVIDERS });
const second = await client.query({ query: PROVIDERS });
const mutation = await client.mutate({ mutation: SEND });
console.log(
  JSON.stringify({ first: first.data, second: second.data, mutation: mutation.data, requests }),
);
