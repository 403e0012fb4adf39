from ray._private.gateway.main import main

main()
