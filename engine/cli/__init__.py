"""The `superbot` command line: one module per group of subcommands."""
