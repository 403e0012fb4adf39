from ray._private.gcs.server import main

main()
