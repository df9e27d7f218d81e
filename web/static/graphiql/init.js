// Starts GraphiQL at /graphql: what Strawberry's page does inline, as a file of the service, so
// the page runs under a Content-Security-Policy of 'self' only.
"use strict";

(function () {
  const EXAMPLE_QUERY = `# mailtab's GraphQL API.
#
# Every operation needs an API token: open "Headers" below and put
#   {"Authorization": "Bearer mt_…"}
# (already filled in when you signed in on the Mail tab page in this browser tab).
#
# Run: Ctrl-Enter. Complete: Ctrl-Space.

{
  mailTab { available missing passwordHelpUrl }
  mailProviders { code title smtpHost port useSsl security }
}
`;

  // The page's address keeps the query and variables (never the headers), so it can be shared.
  const parameters = {};
  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);
    const search = Object.keys(parameters)
      .filter((key) => Boolean(parameters[key]))
      .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(parameters[key])}`)
      .join("&");
    history.replaceState(null, "", `?${search}`);
  }

  // The Mail tab page keeps the token of this browser tab in sessionStorage.
  function defaultHeaders() {
    let token = null;
    try {
      token = window.sessionStorage.getItem("mailtab.token");
    } catch {
      token = null;
    }
    return token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;
  }

  const fetcher = GraphiQL.createFetcher({ url: window.location.href.split("?")[0] });

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();
    return React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query,
      variables,
      defaultHeaders: defaultHeaders(),
      onEditQuery(newQuery) {
        setQuery(newQuery);
        updateURL({ q: newQuery });
      },
      onEditVariables(newVariables) {
        setVariables(newVariables);
        updateURL({ variables: newVariables });
      },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQLWithExplorer));
})();
