"""Packaged data of the declared VIP policy (会员等级政策).

``vip_policy.json`` lists the policy's versions, oldest first, each in force from its
``effective_from`` date: the tiers with their qualification and benefits, the points rules,
the evaluation at the end of a tier's term and the notification deadline in working days.
:mod:`domain.loyalty` reads it with :mod:`importlib.resources`; a new version is a new entry
in the file, never a code change.
"""
