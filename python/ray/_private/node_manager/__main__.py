from ray._private.node_manager.main import main

main()
