"""Community features: accounts, votes, discussions, collections, trending.

Pure logic lives here (password hashing, tokens, rate limits, Markdown sanitizing, the trending
score, BibTeX export); storage is in :mod:`paperboy.storage.accounts` and
:mod:`paperboy.storage.community`; the web routes in :mod:`paperboy.web.routes.community` and
:mod:`paperboy.web.routes.accounts`.
"""
