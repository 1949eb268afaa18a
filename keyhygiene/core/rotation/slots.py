"""The keychain slots a rotation uses: ``pending`` plays AWSPENDING, ``current`` AWSCURRENT (states.py).

A module of their own: the keychain names its entries with them on every start, and the rotation's journal (four
dataclasses, built when imported) loads only once a rotation is looked at."""

CURRENT = "current"
PENDING = "pending"
