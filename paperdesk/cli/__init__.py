"""The command line: `paperdesk COMMAND ...` over the core library."""
