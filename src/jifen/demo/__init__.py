"""The demo data set: a synthetic population sent through the real feeds, and one account per
role. Loaded by the README's run command into the embedded database; never in production."""
