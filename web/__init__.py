"""The HTTP face of mailtab: what wraps the GraphQL schema before it meets the network.

- ``graphql``: the /graphql endpoint — method, size and content-type checks, the bearer-token
  gate, the per-operation time budget — and Strawberry's view behind it;
- ``extensions``: the schema extensions the endpoint runs with (limits, introspection switch,
  what a request did for its log line);
- ``errors``: GraphQL-shaped JSON for refusals that happen before GraphQL runs;
- ``requests``: what is known about the request being served (a context variable);
- ``middleware``: one log line and the metrics per request, security headers;
- ``page``: the Mail tab page at ``/`` and its files (``web/static/``), under its own CSP;
- ``graphiql``: the GraphiQL page, with its scripts and styles served from ``web/static/vendor/``;
- ``security``: the Content-Security-Policies of the pages and the other headers;
- ``logs``: text or JSON log lines; ``metrics``: Prometheus metrics;
- ``health``: /healthz and /readyz for orchestrators;
- ``oauth_callback``: GET /oauth/callback, where a provider returns after an OAuth2 sign-in;
- ``protocol``: uvicorn's HTTP/1.1 protocol with a time limit on request heads.
"""
