"""OAuth2 sign-in of mailboxes for SASL XOAUTH2 (Google, Outlook): clients, states, tokens.

- ``kinds``: the sign-in method of an account and the status of a connection;
- ``errors``: what can go wrong, as exceptions and codes;
- ``clients``: the configured provider clients (preset ``oauth2`` + MAILTAB_OAUTH_*);
- ``exchange``: the authorization URL, the code exchange, refresh and revocation (Authlib);
- ``states``: pending authorizations, single-use, kept in the database;
- ``tokens``: the encrypted connections and the one-at-a-time access-token refresh;
- ``texts``: the bilingual words of the callback page and of the sign-in failures.

Nothing here knows the web framework or GraphQL; services wire it to Save and Send.
"""
