from cdp.cli.main import main

main()
