from ray._private.gcs.main import main

main()
