"""One module per `vt-eval` command: NAME, HELP, add_arguments(parser), run(args, console)."""
