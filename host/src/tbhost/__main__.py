from __future__ import annotations

from tbhost.cli.main import main

main()
