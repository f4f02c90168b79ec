"""Each `branchbot` subcommand: a module exposing `run(args, settings) -> int`."""
