"""Tags (客户标签): declarative rules over profile features and behaviour in time windows.

``rules`` declares them (configuration), ``features`` computes what rules read as of a moment,
``compiler`` turns a rule set into bit masks evaluated in one pass, ``builtin`` holds the default
tags of docs/domain.md §3, §5 and §6, and ``history`` replays a customer's tags in event time.
"""
