"""The core worker embedded in every driver and worker process."""
