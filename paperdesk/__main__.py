from paperdesk.cli.main import main

raise SystemExit(main())
