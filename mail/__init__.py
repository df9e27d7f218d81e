"""Everything SMTP: provider presets, security modes, the test letter, delivery, diagnosis.

Free of GraphQL: the resolvers call into it, never the other way round.
"""
