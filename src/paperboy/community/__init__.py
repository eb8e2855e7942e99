"""Community features: accounts, votes, discussions, collections, trending.

Pure logic lives here (password hashing, rate limits, Markdown sanitizing, BibTeX export); what
the store needs too sits below it (:mod:`paperboy.validation`, :mod:`paperboy.trending`,
:mod:`paperboy.storage.tokens`); storage is in :mod:`paperboy.storage.accounts` and
:mod:`paperboy.storage.community`; the web routes in :mod:`paperboy.web.routes.community` and
:mod:`paperboy.web.routes.accounts`.
"""
