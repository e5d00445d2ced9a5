"""The trade kernel: what happens to a position and the account on each bar."""
