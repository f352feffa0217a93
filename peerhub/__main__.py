from peerhub.cli import main

raise SystemExit(main())
