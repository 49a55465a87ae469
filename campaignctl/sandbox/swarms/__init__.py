"""The swarms platform's sandbox: the fake API (`api.create_app`), served under its registry prefix."""
